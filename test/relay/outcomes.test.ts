import { env } from "cloudflare:workers";
import { beforeAll, expect, it } from "vitest";
import { ledgerFor } from "../../src/spend/binding";
import type { LedgerSubject } from "../../src/spend/spend-ledger";
import { admin } from "../helpers/admin";
import { gatewayClient, gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { eventually, insertSender, type TestSender, zavuEvent, zavuSignature } from "../helpers/senders";
import { insertTenant } from "../helpers/tenants";

/** Zavu posting one event to the relay; the relay must take it. */
async function relay(sender: TestSender, body: string) {
  const res = await gatewayFetch(`/relay/zavu/${sender.relayId}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-zavu-signature": await zavuSignature(sender.zavuSecret, body) },
    body,
  });
  expect(res.status).toBe(200);
}

/** Every event of the tenant has been through its relay's accounting (and delivery). */
async function settled(tenantId: string, count: number) {
  await eventually(async () => {
    const { body } = await admin("GET", `/tenants/${tenantId}/event-deliveries?limit=100`);
    const items = body.items as Array<{ status: string }>;
    return items.length === count && items.every((d) => d.status !== "pending");
  }, 10_000);
}

/** The tenant's event relay has counted `n` delivery outcomes in its usage records. */
async function accounted(tenantId: string, n: number) {
  await eventually(async () => {
    const { totals } = (await admin("GET", `/tenants/${tenantId}/usage`)).body;
    return totals.delivered + totals.failed === n;
  }, 10_000);
}

beforeAll(async () => {
  await sandbox.reset();
  await sandbox.setTeam({ costAtAccept: false, prices: { sms: 2 } });
});

it("delivered and failed outcomes reach the usage records per day and channel, once per Zavu event, and the CSV", async () => {
  const tenant = await insertTenant({ issuer: `https://idp.test/outcomes-${crypto.randomUUID()}` });
  const sender = await insertSender(tenant.id, { webhookUrl: null });
  const events = [
    zavuEvent(sender, tenant.subAccountId, "message.delivered"),
    zavuEvent(sender, tenant.subAccountId, "message.delivered"),
    zavuEvent(sender, tenant.subAccountId, "message.failed", { costTotal: 0.02 }),
    zavuEvent(sender, tenant.subAccountId, "message.delivered", { channel: "whatsapp" }),
    zavuEvent(sender, tenant.subAccountId, "message.sent"), // not an outcome
  ];
  for (const e of events) await relay(sender, e.body);
  await relay(sender, events[0]!.body); // Zavu's retry of one: counted once
  await settled(tenant.id, events.length);

  // Accounted just after the deliveries, in the same pass of the tenant's event relay.
  const body = await eventually(async () => {
    const usage = (await admin("GET", `/tenants/${tenant.id}/usage`)).body;
    return usage.totals?.delivered + usage.totals?.failed === 4 && usage;
  });
  const rows = body.items as Array<{ channel: string; delivered: number; failed: number }>;
  expect(rows.find((r) => r.channel === "sms")).toMatchObject({ delivered: 2, failed: 1 });
  expect(rows.find((r) => r.channel === "whatsapp")).toMatchObject({ delivered: 1, failed: 0 });
  expect(body.totals).toMatchObject({ delivered: 3, failed: 1 });

  const month = new Date().toISOString().slice(0, 7);
  const csv = await (
    await gatewayFetch(`/admin/v1/usage?month=${month}&format=csv`, {
      headers: { authorization: "Bearer test-admin-token-a" },
    })
  ).text();
  const lines = csv
    .replace(/^\uFEFF/, "")
    .trim()
    .split("\r\n");
  const header = lines[0]!.split(",");
  const mine = lines.filter((l) => l.includes(tenant.id)).map((l) => l.split(","));
  const col = (name: string) => header.indexOf(name);
  expect(col("delivered")).toBeGreaterThan(0);
  const sum = (name: string) => mine.reduce((n, r) => n + Number(r[col(name)]), 0);
  expect([sum("delivered"), sum("failed")]).toEqual([3, 1]);
});

it("a failed send Zavu charged nothing for (costTotal 0) gives its estimate back to the tenant's ledger; one it charged does not", async () => {
  const idp = await TestIdp.create(`https://outcomes-${crypto.randomUUID()}.example`, "ES256");
  // 40 cents: the strict zone (every send reserves its estimate, 5 cents, with the ledger).
  const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 40 });
  const sender = await insertSender(t.id, { webhookUrl: null });
  const subject: LedgerSubject = { kind: "tenant", tenantId: t.id, subAccountId: t.subAccountId };
  const ledger = ledgerFor(env, subject);
  const client = gatewayClient(await idp.token());
  const charged = (await client.messages.send({ to: "+15551234567" })).message;
  const free = (await client.messages.send({ to: "+15551230000" })).message;
  const before = await ledger.snapshot(subject);
  expect(before).toMatchObject({ counted: 10, estimate: 5 });

  const failed = (m: { id: string; createdAt: string }, costTotal: number) =>
    zavuEvent(sender, t.subAccountId, "message.failed", { messageId: m.id, createdAt: m.createdAt, costTotal }).body;
  await relay(sender, failed(charged, 0.05));
  await relay(sender, failed(free, 0));
  await settled(t.id, 2);
  const after = await eventually(async () => {
    const snapshot = await ledger.snapshot(subject);
    return snapshot.counted < before.counted && snapshot;
  });
  expect(after).toMatchObject({ counted: 5, available: before.available! + 5 });
});

it("tenant.delivery.failure_rate fires when 20% of the last outcomes failed, and clears when the rate falls back", async () => {
  const hook = `failure-rate-${Date.now()}`;
  const created = await admin("POST", "/webhooks", {
    body: { url: `https://zavu.sandbox/__sandbox/hooks/${hook}`, events: ["tenant.delivery.failure_rate"] },
  });
  expect(created.status).toBe(201);
  const tenant = await insertTenant({ issuer: `https://idp.test/outcomes-${crypto.randomUUID()}` });
  const sender = await insertSender(tenant.id, { webhookUrl: null });
  const send = async (type: "message.delivered" | "message.failed", n: number) => {
    for (let i = 0; i < n; i++) await relay(sender, zavuEvent(sender, tenant.subAccountId, type).body);
  };
  const alerts = async () =>
    (await sandbox.hooks(hook)).map((h) => JSON.parse(h.body) as { type: string; data: Record<string, unknown> });

  await send("message.delivered", 15);
  await send("message.failed", 4); // 4 of 19: under the 20 outcomes it needs
  await accounted(tenant.id, 19);
  expect(await alerts()).toEqual([]);
  await send("message.failed", 1); // 5 of 20: 25%
  const [firing] = await eventually(async () => {
    const got = await alerts();
    return got.length > 0 && got;
  });
  expect(firing).toMatchObject({
    type: "tenant.delivery.failure_rate",
    data: { tenantId: tenant.id, state: "firing", failed: 5, outcomes: 20, rate: 0.25, threshold: 0.2 },
  });
  await send("message.delivered", 5); // 5 of 25: still 20%
  await accounted(tenant.id, 25);
  expect(await alerts()).toHaveLength(1);
  await send("message.delivered", 1); // 5 of 26: under
  const cleared = await eventually(async () => {
    const got = await alerts();
    return got.length === 2 && got[1];
  });
  expect(cleared).toMatchObject({ data: { state: "cleared", failed: 5, outcomes: 26 } });
});
