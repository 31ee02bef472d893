import { type CreateTenant, unwrap } from "@zavu-gateway/admin-client";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  admin,
  adminClient,
  type Cluster,
  createTenant,
  sandboxControl,
  sandboxLog,
  send,
  sleep,
  startCluster,
} from "../harness/cluster";
import { NodeIdp } from "../harness/idp";

let cluster: Cluster;
beforeAll(async () => {
  // Many tenants' reconciliations in one cron run: more than the default subrequest budget.
  cluster = await startCluster({ isolates: 3, vars: { MAINTENANCE_MAX_SUBREQUESTS: "1000" } });
});
afterAll(() => cluster?.stop());
beforeEach(async () => {
  await sandboxControl(cluster, "POST", "/reset");
});

async function onboard(extra: Partial<CreateTenant> = {}) {
  const idp = await NodeIdp.create();
  const tenant = await createTenant(cluster.gateways[0]!, { issuer: idp.issuer, jwks: idp.jwks() }, extra);
  return { ...tenant, subAccountId: tenant.subAccountId!, token: await idp.token() };
}

const upstreamSends = async (subAccountId: string) =>
  (await sandboxLog(cluster)).filter(
    (r) => r.method === "POST" && r.path === "/v1/messages" && r.subAccountId === subAccountId && r.status === 202,
  ).length;

/** `n` sends at once, spread round-robin over the isolates. */
async function burst(token: string, n: number, body?: unknown) {
  return Promise.all(
    Array.from({ length: n }, (_, i) => send(cluster.gateways[i % cluster.gateways.length]!, token, { body })),
  );
}

const tally = (results: Array<{ status: number; code?: string }>) => {
  const out: Record<string, number> = {};
  for (const r of results) out[r.code ?? String(r.status)] = (out[r.code ?? String(r.status)] ?? 0) + 1;
  return out;
};

describe("plans hold across isolates", () => {
  it("the daily quota is exact under 50 concurrent sends through 3 isolates; another tenant is unaffected", async () => {
    const limited = await onboard({ plan: { dailySends: 20 } });
    const other = await onboard({ plan: { dailySends: 20 } });
    const [results, others] = await Promise.all([burst(limited.token, 50), burst(other.token, 10)]);
    expect(tally(results)).toEqual({ "202": 20, daily_quota_exceeded: 30 });
    expect(tally(others)).toEqual({ "202": 10 });
    expect(await upstreamSends(limited.subAccountId)).toBe(20); // refusals never reached Zavu
    const refused = results.find((r) => r.status === 429)!;
    expect(refused.body.message).toContain("20 sends a day");
  });

  it("a larger quota, leased out to the isolates far from its end, is never exceeded", async () => {
    const limited = await onboard({ plan: { dailySends: 300 } });
    const results: Array<{ status: number; code?: string }> = [];
    for (let round = 0; round < 8; round++) results.push(...(await burst(limited.token, 50)));
    const t = tally(results);
    expect(t["202"]).toBeLessThanOrEqual(300);
    // Fewer only by what an isolate still holds in a lease when the traffic stops (leases shrink near the end).
    expect(t["202"]).toBeGreaterThanOrEqual(200);
    expect(t.daily_quota_exceeded).toBe(400 - t["202"]!);
    expect(await upstreamSends(limited.subAccountId)).toBe(t["202"]);
    console.log(`[cluster] daily quota 300, 400 sends in bursts of 50 over 3 isolates: ${t["202"]} accepted`);
  });

  it("an isolate hands back the quota it leased and did not use, before the lease expires: the others can send it", async () => {
    const limited = await onboard({ plan: { dailySends: 100 } });
    // Isolate 0 leases a share of the quota (a quarter: 25 sends, near the end: a short lease, 5 s) and
    // uses two of them.
    for (let i = 0; i < 2; i++) expect((await send(cluster.gateways[0]!, limited.token)).status).toBe(202);
    await sleep(3_000); // its lease goes back at half its life, from the request that took it
    const results: Array<{ status: number; code?: string }> = [];
    for (let round = 0; round < 4; round++) {
      results.push(
        ...(await Promise.all(
          Array.from({ length: 30 }, (_, i) => send(cluster.gateways[1 + (i % 2)]!, limited.token)),
        )),
      );
    }
    // Held in a silent isolate's lease, 23 sends would count as spent until the ledger settled it.
    expect(tally(results)).toEqual({ "202": 98, daily_quota_exceeded: 22 });
  }, 60_000);

  it("requestsPerSecond counts across isolates (one location's counter): refused without an upstream call", async () => {
    const limited = await onboard({ plan: { requestsPerSecond: 1 } }); // 10 per 10 s window
    const other = await onboard({ plan: { requestsPerSecond: 1 } });
    const into = Date.now() % 10_000;
    if (into > 5_000) await sleep(10_000 - into + 50);
    const results = await burst(limited.token, 15);
    const t = tally(results);
    expect(t).toEqual({ "202": 10, rate_limited: 5 });
    expect(await upstreamSends(limited.subAccountId)).toBe(10);
    expect(tally(await burst(other.token, 3))).toEqual({ "202": 3 });
  });
});

describe("usage records across isolates", () => {
  const MIX = [
    { channel: "sms", to: "+15551234567" },
    { channel: "whatsapp", to: "+5511987654321" },
    { channel: "email", to: "ana@example.com" },
    { channel: "voice", to: "+447700900123" },
  ];

  async function usage(tenantId: string) {
    const read = adminClient(cluster.gateways[2]!).GET("/tenants/{id}/usage", { params: { path: { id: tenantId } } });
    return (await unwrap(read)).items;
  }

  async function charged(subAccountId: string) {
    const { items } = await sandboxControl<{ items: Array<{ channel: string; sends: number; cents: number }> }>(
      cluster,
      "GET",
      `/usage?account=${subAccountId}`,
    );
    return Object.fromEntries(items.map((r) => [r.channel, { sends: r.sends, cents: r.cents }]));
  }

  it("a day of mixed traffic through 3 isolates: the usage sums equal the sandbox's own record (exact cost)", async () => {
    const tenants = await Promise.all([onboard({ creditLimit: 1_000_000 }), onboard({ creditLimit: 1_000_000 })]);
    await Promise.all(
      tenants.flatMap((t) =>
        Array.from({ length: 24 }, (_, i) =>
          send(cluster.gateways[i % 3]!, t.token, { body: { ...MIX[i % 4], text: `m${i}` } }),
        ),
      ),
    );
    const refused = await send(cluster.gateways[1]!, tenants[0]!.token, { body: { channel: "sms", to: "bad" } });
    expect(refused).toMatchObject({ status: 400, code: "invalid_request" }); // Zavu's refusal, passed on
    await sleep(1_500); // each isolate hands its counts to a usage shard within a second
    for (const t of tenants) {
      const items = await usage(t.id);
      const byChannel = Object.fromEntries(
        items.filter((i) => i.sends > 0).map((i) => [i.channel, { sends: i.sends, cents: i.costCents }]),
      );
      expect(byChannel).toEqual(await charged(t.subAccountId));
      expect(items.every((i) => !i.estimated)).toBe(true);
    }
    const refusals = (await usage(tenants[0]!.id)).find((i) => i.channel === "unknown")?.refusals;
    expect(refusals).toEqual({ invalid_request: 1 });
  });

  it("estimated costs (Zavu gives none, answers not read) converge on Zavu's totalSpent after the scheduled reconciliation", async () => {
    await sandboxControl(cluster, "PATCH", "/team", { costAtAccept: false, prices: { sms: 3, whatsapp: 7 } });
    const t = await onboard();
    await Promise.all(
      Array.from({ length: 18 }, (_, i) =>
        send(cluster.gateways[i % 3]!, t.token, { body: { ...MIX[i % 2], text: `e${i}` } }),
      ),
    );
    await sleep(1_500);
    const before = await usage(t.id);
    const sends = before.reduce((n, i) => n + i.sends, 0);
    expect(sends).toBe(18);
    expect(before.some((i) => i.estimated)).toBe(true);
    const zavu = 9 * 3 + 9 * 7;

    const worker = await cluster.mf.getWorker("gateway-1");
    await worker.scheduled({ scheduledTime: new Date(), cron: "*/5 * * * *" });

    const after = await usage(t.id);
    expect(after.reduce((n, i) => n + i.costCents, 0)).toBe(zavu);
    expect(after.reduce((n, i) => n + i.sends, 0)).toBe(18);
    expect(after.every((i) => !i.estimated)).toBe(true);
    const { reconciliations } = await unwrap(
      adminClient(cluster.gateways[0]!).GET("/tenants/{id}/usage", { params: { path: { id: t.id } } }),
    );
    expect(reconciliations[0]).toMatchObject({
      zavuCents: zavu,
      driftCents: zavu - before.reduce((n, i) => n + i.costCents, 0),
    });
    console.log(
      `[cluster] 18 sends without costs: estimated ${before.reduce((n, i) => n + i.costCents, 0)}c, Zavu ${zavu}c; reconciled to ${zavu}c`,
    );
  });
});

describe("alerts from the cluster", () => {
  it("a webhook the gateway signs verifies with the standardwebhooks library, in Node", async () => {
    const res = await admin(cluster.gateways[1]!, "POST", "/webhooks", {
      body: { url: "https://zavu.sandbox/__sandbox/hooks/node", events: ["tenant.rate_limited"] },
    });
    expect(res.status).toBe(201);
    const { id, secret } = res.body.webhook;
    const t = await onboard({ plan: { dailySends: 1 } });
    await burst(t.token, 6); // refused in several isolates: one tenant.rate_limited for the hour
    await admin(cluster.gateways[2]!, "POST", `/webhooks/${id}/test`);
    let hooks: Array<{ headers: Record<string, string>; body: string; status: number }> = [];
    for (let i = 0; i < 100 && hooks.length < 2; i++) {
      hooks = (await sandboxControl<{ items: typeof hooks }>(cluster, "GET", "/hooks?name=node")).items;
      await sleep(50);
    }
    const events = hooks.map(
      (h) => new Webhook(secret).verify(h.body, h.headers) as { type: string; data: { tenantId?: string } },
    );
    expect(events.map((e) => e.type).sort()).toEqual(["tenant.rate_limited", "webhook.test"]);
    expect(events.find((e) => e.type === "tenant.rate_limited")!.data.tenantId).toBe(t.id);
  });
});
