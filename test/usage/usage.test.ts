import {
  abortAllDurableObjects,
  createExecutionContext,
  runDurableObjectAlarm,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { parse } from "csv-parse/sync";
import { beforeEach, describe, expect, it } from "vitest";
import { runMaintenance } from "../../src/maintenance/runner";
import { createIsolateState } from "../../src/state";
import { type QuotaClaimCount, UsageRepo, type UsageRow } from "../../src/storage/usage-repo";
import { shardName, USAGE_SHARDS } from "../../src/usage/rows";
import { admin } from "../helpers/admin";
import { clock, gatewayFetch, newIsolate, state } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";

type Item = {
  date: string;
  channel: string;
  sends: number;
  refusals: Record<string, number>;
  costCents: number;
  estimated: boolean;
};

async function onboard(extra: Record<string, unknown> = {}) {
  const idp = await TestIdp.create(`https://usage-${crypto.randomUUID()}.example`, "ES256");
  const res = await admin("POST", "/tenants", {
    body: { name: "Usage test", identity: { issuer: idp.issuer, jwks: idp.jwks() }, ...extra },
  });
  expect(res.status, res.text).toBe(201);
  return { ...(res.body.tenant as { id: string; subAccountId: string }), token: await idp.token() };
}

async function send(token: string, body: Record<string, unknown>, fetcher = gatewayFetch) {
  const res = await fetcher("/v1/messages", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/** A refused send's status and code: the gateway's own code, where Zavu would refuse with another. */
async function refusal(token: string, body: Record<string, unknown>) {
  const res = await gatewayFetch("/v1/messages", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const { code } = (await res.json()) as { code: string };
  return { status: res.status, code };
}

async function usage(tenantId: string): Promise<Item[]> {
  const res = await admin("GET", `/tenants/${tenantId}/usage`);
  expect(res.status, res.text).toBe(200);
  return res.body.items;
}

/** The sandbox's own record of one sub-account: sends and cents per channel. */
async function charged(subAccountId: string) {
  const rows = await sandbox.usage(subAccountId);
  return Object.fromEntries(rows.map((r) => [r.channel, { sends: r.sends, cents: r.cents }]));
}

const total = (items: Item[], key: "sends" | "costCents") => items.reduce((n, i) => n + i[key], 0);

const MIX = [
  { channel: "sms", to: "+15551234567" },
  { channel: "whatsapp", to: "+5511987654321" },
  { channel: "email", to: "ana@example.com" },
  { channel: "voice", to: "+447700900123" },
];

beforeEach(async () => {
  await sandbox.reset();
  await env.DB.prepare("DELETE FROM maintenance_jobs").run();
});

describe("usage records", () => {
  it("a day of mixed traffic: sends and exact cost per channel equal the sandbox's own record, refusals by code", async () => {
    // A credit limit makes the gateway read every send's answer (it needs the exact cost): exact usage.
    const a = await onboard({ creditLimit: 1_000_000, plan: { dailySends: 14 } });
    const b = await onboard({ creditLimit: 1_000_000 });
    for (let i = 0; i < 12; i++) {
      const m = MIX[i % MIX.length]!;
      expect(await send(a.token, { ...m, text: `a${i}` })).toBe(202);
      expect(await send(b.token, { ...MIX[(i + 1) % MIX.length]!, text: `b${i}` })).toBe(202);
    }
    expect(await refusal(a.token, { channel: "sms", to: "not a number" })).toEqual({
      status: 400,
      code: "invalid_request", // Zavu's own refusal, passed through
    });
    expect(await send(a.token, { channel: "sms", to: "+15550000001" })).toBe(202); // 13
    expect(await send(a.token, { channel: "sms", to: "+15550000002" })).toBe(202); // 14: the quota
    expect(await refusal(a.token, { channel: "sms", to: "+15550000003" })).toEqual({
      status: 429,
      code: "daily_quota_exceeded",
    });
    await admin("PATCH", `/tenants/${b.id}`, { body: { status: "inactive" } });
    // The gateway's own refusal: Zavu would answer 403 sub_account_inactive for the same send.
    expect(await refusal(b.token, MIX[0]!)).toEqual({ status: 403, code: "tenant_suspended" });

    for (const t of [a, b]) {
      const items = await usage(t.id);
      const sandboxRecord = await charged(t.subAccountId);
      const byChannel = Object.fromEntries(
        items.filter((i) => i.sends > 0).map((i) => [i.channel, { sends: i.sends, cents: i.costCents }]),
      );
      expect(byChannel).toEqual(sandboxRecord);
      expect(items.every((i) => !i.estimated)).toBe(true);
      expect(new Set(items.map((i) => i.date))).toEqual(new Set([new Date(clock.now()).toISOString().slice(0, 10)]));
    }
    const refusals = (items: Item[]) => Object.assign({}, ...items.map((i) => i.refusals));
    expect(refusals(await usage(a.id))).toEqual({ invalid_request: 1, daily_quota_exceeded: 1 });
    expect(refusals(await usage(b.id))).toEqual({ tenant_suspended: 1 });
  });

  it("estimated where Zavu gives no cost (and where the answer is not read); reconciliation with totalSpent makes it converge", async () => {
    await sandbox.setTeam({ costAtAccept: false, prices: { sms: 3, whatsapp: 4 } });
    const t = await onboard(); // no credit limit: answers are read only until this isolate knows a cost
    for (let i = 0; i < 6; i++) expect(await send(t.token, { ...MIX[i % 2]!, text: `e${i}` })).toBe(202);
    let items = await usage(t.id);
    expect(total(items, "sends")).toBe(6);
    expect(items.some((i) => i.estimated)).toBe(true);
    const zavuSpent = (await admin("GET", `/tenants/${t.id}`)).body.tenant.totalSpent as number;
    expect(zavuSpent).toBe(3 * 3 + 3 * 4);
    const estimatedTotal = total(items, "costCents"); // at this isolate's average of exact costs seen so far
    expect(estimatedTotal).not.toBe(zavuSpent);

    const report = await runMaintenance(env, state, { trigger: "admin", only: ["reconcile-usage"], force: true });
    // (Tenants of the tests before live in a sandbox since reset: Zavu cannot find them, they count as failed.)
    expect(report.jobs[0]).toMatchObject({ outcome: "ran", counts: { drifted: 1 } });
    items = await usage(t.id);
    expect(total(items, "costCents")).toBe(zavuSpent);
    expect(total(items, "sends")).toBe(6);
    expect(items.every((i) => !i.estimated)).toBe(true);
    const { reconciliations } = (await admin("GET", `/tenants/${t.id}/usage`)).body;
    expect(reconciliations[0]).toMatchObject({
      zavuCents: zavuSpent,
      countedCents: estimatedTotal,
      driftCents: zavuSpent - estimatedTotal,
    });

    // More traffic: the next pass corrects only what is new.
    expect(await send(t.token, { ...MIX[0]!, text: "later" })).toBe(202);
    await runMaintenance(env, state, { trigger: "admin", only: ["reconcile-usage"], force: true });
    expect(total(await usage(t.id), "costCents")).toBe(zavuSpent + 3);
  });

  it("every tenant's month, one row per tenant and channel: JSON, and CSV that opens in any spreadsheet", async () => {
    const tricky = await onboard({
      creditLimit: 1_000_000,
      name: '=HYPERLINK("http://evil.example","x"), "quoted"; Acme;=1+1',
      externalId: "+ext,1",
    });
    const plain = await onboard({ creditLimit: 1_000_000, name: "Zoë Ltd" });
    expect(await send(tricky.token, MIX[0]!)).toBe(202);
    expect(await send(tricky.token, MIX[1]!)).toBe(202);
    expect(await send(plain.token, MIX[3]!)).toBe(202);
    const month = new Date(clock.now()).toISOString().slice(0, 7);

    const json = await admin("GET", `/usage?month=${month}`);
    expect(json.status).toBe(200);
    const mine = json.body.items.filter((r: { tenantId: string }) => [tricky.id, plain.id].includes(r.tenantId));
    expect(mine).toHaveLength(3);
    expect(mine.find((r: { tenantId: string }) => r.tenantId === plain.id)).toMatchObject({
      name: "Zoë Ltd",
      channel: "voice",
      sends: 1,
      costCents: 5,
      estimated: false,
    });

    const res = await gatewayFetch(`/admin/v1/usage?month=${month}&format=csv`, {
      headers: { authorization: "Bearer test-admin-token-a" },
    });
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="usage-${month}.csv"`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // UTF-8 BOM: Excel reads "Zoë" right
    const text = new TextDecoder().decode(bytes.slice(3));
    expect(text.endsWith("\r\n")).toBe(true);
    // Read by a CSV library as a spreadsheet would: the BOM, CRLF and quotes as RFC 4180 has them.
    const rows: string[][] = parse(text, { relax_column_count: false });
    const header = rows[0]!;
    expect(header).toEqual([
      "tenant_id",
      "name",
      "external_id",
      "month",
      "channel",
      "sends",
      "refusals",
      "refusals_by_code",
      "cost_cents",
      "cost_usd",
      "estimated",
      "delivered",
      "failed",
    ]);
    expect(rows.length).toBeGreaterThan(2);
    expect(rows.slice(1).every((r) => r.length === header.length)).toBe(true);
    // Where the list separator is ";" (most of Europe), no cell starts a formula either: every ";" is inside quotes.
    const bySemicolon: string[][] = parse(text, { delimiter: ";", relax_column_count: true, relax_quotes: true });
    const cells = bySemicolon.flat();
    expect(cells.length).toBeGreaterThan(rows.length);
    expect(cells.filter((cell) => /^[=+\-@]/.test(cell))).toEqual([]);
    const trickyRow = rows.find((r) => r[0] === tricky.id && r[4] === "sms")!;
    // The name survives quoting (comma, quotes, semicolons) and cannot run as a formula.
    expect(trickyRow[1]).toBe(`'=HYPERLINK("http://evil.example","x"), "quoted"; Acme;'=1+1`);
    expect(trickyRow[2]).toBe("'+ext,1");
    expect(trickyRow.slice(3)).toEqual([month, "sms", "1", "0", "", "1", "0.01", "false", "0", "0"]);
    expect(rows.find((r) => r[0] === plain.id)).toEqual([
      plain.id,
      "Zoë Ltd",
      "",
      month,
      "voice",
      "1",
      "0",
      "",
      "5",
      "0.05",
      "false",
      "0",
      "0",
    ]);
  });
});

describe("nothing counted is lost", () => {
  it("once a request has finished (its waitUntil too), its counts are out of the isolate: a new isolate reads them all", async () => {
    const t = await onboard({ creditLimit: 1_000_000 });
    const doomed = newIsolate(); // an isolate that will die after its requests
    for (let i = 0; i < 5; i++) expect(await send(t.token, MIX[0]!, doomed.fetch)).toBe(202);
    expect(doomed.state.usage.stats().pendingRows).toBe(0); // nothing left in its memory
    // It dies: only the shards and D1 remain. Another isolate reads the usage.
    expect(total(await usage(t.id), "sends")).toBe(5);
  });

  it("a shard that crashes after acknowledging a batch still writes it, once; a batch sent twice counts once", async () => {
    const t = await onboard({ creditLimit: 1_000_000 });
    const isolate = createIsolateState({ clock, usageFlushMs: 60_000 }); // would flush a minute later
    isolate.usage.accepted(t.id, "sms", 2, 5);
    isolate.usage.accepted(t.id, "sms", 2, 5);
    const stub = env.USAGE.get(env.USAGE.idFromName(shardName(0)));
    await isolate.usage.flush({ shard: () => stub });
    // The same batch again (an isolate that did not see the acknowledgement): ignored.
    await stub.record("dup-batch", [
      {
        tenantId: t.id,
        date: new Date(clock.now()).toISOString().slice(0, 10),
        channel: "sms",
        sends: 1,
        costCents: 2,
        estimatedCents: 0,
        refusals: null,
      },
    ]);
    await stub.record("dup-batch", [
      {
        tenantId: t.id,
        date: new Date(clock.now()).toISOString().slice(0, 10),
        channel: "sms",
        sends: 1,
        costCents: 2,
        estimatedCents: 0,
        refusals: null,
      },
    ]);
    expect(await stub.held()).toBe(1);
    await abortAllDurableObjects(); // the shard's memory is gone; its storage is not
    const after = env.USAGE.get(env.USAGE.idFromName(shardName(0)));
    expect(await after.held()).toBe(1);
    expect(await runDurableObjectAlarm(after)).toBe(true);
    const rows = await new UsageRepo(env.DB, state.counters).forTenant(t.id, "2000-01-01", "2999-12-31");
    expect(rows.map((r) => [r.channel, r.sends, r.costCents])).toEqual([["sms", 3, 6]]);
  });

  it("a shard keeps each batch as it came and adds them up in bulk: 2,500 tenants in three batches and a retry, a crash before the adding, the quota's reading and D1 agree", async () => {
    const id = env.USAGE.idFromName(`usage-inbox-${crypto.randomUUID()}`);
    const stub = env.USAGE.get(id);
    const date = "2026-02-03";
    const prefix = `tnt_inbox_${crypto.randomUUID().slice(0, 8)}_`;
    const ids = Array.from({ length: 2_500 }, (_, i) => `${prefix}${i}`);
    const row = (i: number, extra: Partial<UsageRow> = {}): UsageRow => ({
      tenantId: ids[i]!,
      date,
      channel: "sms",
      sends: 1,
      costCents: 2,
      estimatedCents: 0,
      refusals: null,
      ...extra,
    });
    const claim = (i: number, sent: number): QuotaClaimCount => ({
      tenantId: ids[i]!,
      date,
      claimId: "q1",
      sent,
      unknown: 0,
    });
    const all = ids.map((_, i) => i);
    await stub.record(
      "inbox-1",
      all.map((i) => row(i)),
      all.map((i) => claim(i, 1)),
    );
    await stub.record(
      "inbox-2",
      all.map((i) => row(i, { sends: 2, costCents: 4, refusals: i % 2 ? { rate_limited: 1 } : null })),
      all.map((i) => claim(i, 2)),
    );
    await stub.record("inbox-2", [row(0, { sends: 100 })], [claim(0, 100)]); // a retry: ignored
    expect(await stub.waiting()).toBe(10_000); // stored as they came, nothing added up yet
    await abortAllDurableObjects(); // the shard's memory is gone; its storage is not
    const same = env.USAGE.get(id);
    expect(await same.waiting()).toBe(10_000);
    await same.record("inbox-3", [row(7, { sends: 4, costCents: 8, estimatedCents: 8, delivered: 1 })], [claim(7, 4)]);
    // The quota's reading adds everything up first.
    expect(await same.quotaCounts(ids[7]!, date, ["q1", "q2"])).toEqual({
      heldSends: 7,
      claimed: 7,
      byClaim: { q1: { sent: 7, unknown: 0 } },
    });
    expect(await same.waiting()).toBe(0);
    expect(await same.held()).toBe(2_500);
    // Added onto rows already added up: refusals merged, outcomes summed.
    await same.record("inbox-4", [row(7, { sends: 0, costCents: 0, refusals: { rate_limited: 2, blocked: 1 } })]);
    expect(await runDurableObjectAlarm(same)).toBe(true);
    expect(await same.held()).toBe(0);
    const repo = new UsageRepo(env.DB, state.counters);
    const seven = await repo.forTenant(ids[7]!, date, date);
    expect(seven.map((r) => [r.sends, r.costCents, r.estimatedCents, r.delivered, r.refusals])).toEqual([
      [7, 14, 8, 1, { rate_limited: 3, blocked: 1 }],
    ]);
    const zero = await repo.forTenant(ids[0]!, date, date);
    expect(zero.map((r) => [r.sends, r.costCents, r.refusals])).toEqual([[3, 6, {}]]);
    const sums = await env.DB.prepare(
      `SELECT COUNT(*) AS n, SUM(sends) AS sends, SUM(cost_cents) AS cents FROM usage_daily
       WHERE date = ? AND tenant_id LIKE ?`,
    )
      .bind(date, `${prefix}%`)
      .first<{ n: number; sends: number; cents: number }>();
    expect(sums).toEqual({ n: 2_500, sends: 2_500 * 3 + 4, cents: 2_500 * 6 + 8 });
  });

  it("a shard adds its batches up once 50,000 rows and claims wait; a count that is not a number is stored as 0, the rest of its batch kept", async () => {
    const stub = env.USAGE.get(env.USAGE.idFromName(`usage-inbox-${crypto.randomUUID()}`));
    const rows = (n: number, from: number): UsageRow[] =>
      Array.from({ length: n }, (_, i) => ({
        tenantId: `tnt_many_${from + i}`,
        date: "2026-02-04",
        channel: "sms",
        sends: 1,
        costCents: 1,
        estimatedCents: 0,
        refusals: null,
      }));
    await stub.record("many-1", rows(20_000, 0));
    expect(await stub.waiting()).toBe(20_000);
    await stub.record("many-2", rows(30_000, 20_000));
    expect(await stub.waiting()).toBe(0); // added up in the same call
    const [bad] = rows(1, 50_000);
    await stub.record("bad-1", [
      { ...bad!, costCents: Number.NaN, estimatedCents: Number.POSITIVE_INFINITY },
      ...rows(1, 50_001),
    ]);
    expect(await stub.waiting()).toBe(2);
    expect(await stub.held()).toBe(50_002); // added up: before, one such row would stop every later adding-up
    expect(await stub.quotaCounts("tnt_many_50000", "2026-02-04", [])).toMatchObject({ heldSends: 1 });
  });

  it("a D1 write that landed is not repeated when the shard retries it", async () => {
    const t = await onboard({ creditLimit: 1_000_000 });
    const repo = new UsageRepo(env.DB, state.counters);
    const row = {
      tenantId: t.id,
      date: "2026-01-01",
      channel: "sms",
      sends: 2,
      costCents: 4,
      estimatedCents: 0,
      refusals: { rate_limited: 1 },
    };
    expect(await repo.add("usage-test:1:0", [row], Date.now())).toBe("added");
    expect(await repo.add("usage-test:1:0", [row], Date.now())).toBe("already");
    expect(
      (await repo.forTenant(t.id, "2026-01-01", "2026-01-01")).map((r) => [r.sends, r.costCents, r.refusals]),
    ).toEqual([[2, 4, { rate_limited: 1 }]]);
  });

  it("a count can be lost only inside an isolate that dies before its flush (the window docs/plans-usage-alerts.md states)", async () => {
    const t = await onboard({ creditLimit: 1_000_000 });
    const isolate = createIsolateState({ clock, usageFlushMs: 60_000 });
    isolate.usage.accepted(t.id, "sms", 2, 5);
    expect(isolate.usage.stats().pendingRows).toBe(1); // not handed over yet: this isolate dying would lose it
    const ctx = createExecutionContext();
    await isolate.usage.flush({ shard: (i) => env.USAGE.get(env.USAGE.idFromName(shardName(i))) });
    await waitOnExecutionContext(ctx);
    expect(isolate.usage.stats().pendingRows).toBe(0);
    expect(USAGE_SHARDS).toBeGreaterThan(0);
    expect(total(await usage(t.id), "sends")).toBe(1);
  });
});
