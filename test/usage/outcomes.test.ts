import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { parse } from "csv-parse/sync";
import { beforeEach, describe, expect, it } from "vitest";
import { UsageRepo } from "../../src/storage/usage-repo";
import { outcomeShard, recordDeliveryOutcome } from "../../src/usage/outcomes";
import { UNKNOWN_CHANNEL } from "../../src/usage/rows";
import { admin } from "../helpers/admin";
import { clock, gatewayFetch, state } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";

async function onboard() {
  const idp = await TestIdp.create(`https://outcomes-${crypto.randomUUID()}.example`, "ES256");
  const res = await admin("POST", "/tenants", {
    body: { name: "Outcomes test", identity: { issuer: idp.issuer, jwks: idp.jwks() }, creditLimit: 1_000_000 },
  });
  expect(res.status, res.text).toBe(201);
  return { ...(res.body.tenant as { id: string }), token: await idp.token() };
}

const today = () => new Date(clock.now()).toISOString().slice(0, 10);

beforeEach(async () => {
  await sandbox.reset();
});

describe("delivery outcomes in the usage records", () => {
  it("count once per event id, per UTC day of the event and channel; show in the tenant's usage and its totals", async () => {
    const t = await onboard();
    const res = await gatewayFetch("/v1/messages", {
      method: "POST",
      headers: { authorization: `Bearer ${t.token}`, "content-type": "application/json" },
      body: JSON.stringify({ channel: "sms", to: "+15551234567", text: "hi" }),
    });
    expect(res.status).toBe(202);
    await res.arrayBuffer();
    const at = clock.now();
    const outcome = (eventId: string, outcome: "delivered" | "failed", channel: string | null = "sms") =>
      recordDeliveryOutcome(env, state.counters, { eventId, tenantId: t.id, at, channel, outcome });
    await outcome("evt_d1", "delivered");
    await outcome("evt_d1", "delivered"); // a retry of the same event: counted once
    await outcome("evt_d2", "delivered");
    await outcome("evt_f1", "failed");
    await outcome("evt_f1", "failed");
    await outcome("evt_f2", "failed", null);
    // The day is the event's: yesterday's event lands on yesterday's record.
    await recordDeliveryOutcome(env, state.counters, {
      eventId: "evt_old",
      tenantId: t.id,
      at: at - 86_400_000,
      channel: "sms",
      outcome: "failed",
    });

    const { status, body } = await admin("GET", `/tenants/${t.id}/usage`);
    expect(status).toBe(200);
    const rows = body.items.map((i: Record<string, unknown>) => [i.date, i.channel, i.sends, i.delivered, i.failed]);
    const yesterday = new Date(at - 86_400_000).toISOString().slice(0, 10);
    expect(rows).toEqual([
      [yesterday, "sms", 0, 0, 1],
      [today(), "sms", 1, 2, 1],
      [today(), UNKNOWN_CHANNEL, 0, 0, 1],
    ]);
    expect(body.totals).toMatchObject({ sends: 1, refusals: 0, delivered: 2, failed: 3 });
    expect(body.totals.costCents).toBe(body.items.reduce((n: number, i: { costCents: number }) => n + i.costCents, 0));
  });

  it("show in the month's JSON and CSV (columns delivered, failed, after the others)", async () => {
    const t = await onboard();
    const at = clock.now();
    for (const [eventId, outcome] of [
      ["evt_m1", "delivered"],
      ["evt_m2", "delivered"],
      ["evt_m3", "failed"],
    ] as const) {
      await recordDeliveryOutcome(env, state.counters, { eventId, tenantId: t.id, at, channel: "whatsapp", outcome });
    }
    const month = today().slice(0, 7);
    const json = await admin("GET", `/usage?month=${month}`);
    expect(json.body.items.filter((r: { tenantId: string }) => r.tenantId === t.id)).toEqual([
      expect.objectContaining({ channel: "whatsapp", sends: 0, delivered: 2, failed: 1 }),
    ]);

    const res = await gatewayFetch(`/admin/v1/usage?month=${month}&format=csv`, {
      headers: { authorization: "Bearer test-admin-token-a" },
    });
    const rows: string[][] = parse(new TextDecoder().decode(new Uint8Array(await res.arrayBuffer()).slice(3)));
    const header = rows[0]!;
    expect(header.slice(-3)).toEqual(["estimated", "delivered", "failed"]);
    const mine = rows.find((r) => r[0] === t.id)!;
    expect([mine[header.indexOf("delivered")], mine[header.indexOf("failed")]]).toEqual(["2", "1"]);
  });

  it("go to the tenant's shard; a shard created before outcomes gains the columns and keeps what it held", async () => {
    const t = await onboard();
    expect(outcomeShard(t.id)).toBe(outcomeShard(t.id));
    expect(outcomeShard(t.id)).toBeGreaterThanOrEqual(0);
    const stub = env.USAGE.get(env.USAGE.idFromName(`legacy-${crypto.randomUUID()}`));
    await runInDurableObject(stub, (_instance, ctx) => {
      // The table as the previous version created it, with a count not yet written to D1.
      ctx.storage.sql.exec(`DROP TABLE pending;
        CREATE TABLE pending (
          tenant_id TEXT NOT NULL, date TEXT NOT NULL, channel TEXT NOT NULL, flush INTEGER NOT NULL DEFAULT 0,
          sends INTEGER NOT NULL, cost_cents INTEGER NOT NULL, estimated_cents INTEGER NOT NULL, refusals TEXT,
          PRIMARY KEY (tenant_id, date, channel, flush));`);
      ctx.storage.sql.exec(
        "INSERT INTO pending (tenant_id, date, channel, flush, sends, cost_cents, estimated_cents) VALUES (?, ?, 'sms', 0, 3, 6, 0)",
        t.id,
        today(),
      );
    });
    await abortAllDurableObjects(); // the next call constructs the shard again, over the old table
    const shard = env.USAGE.get(stub.id);
    await shard.record("legacy-outcome", [
      {
        tenantId: t.id,
        date: today(),
        channel: "sms",
        sends: 0,
        costCents: 0,
        estimatedCents: 0,
        refusals: null,
        failed: 1,
      },
    ]);
    await shard.flush();
    const rows = await new UsageRepo(env.DB, state.counters).forTenant(t.id, today(), today());
    expect(rows.map((r) => [r.channel, r.sends, r.costCents, r.delivered, r.failed])).toEqual([["sms", 3, 6, 0, 1]]);
  });
});
