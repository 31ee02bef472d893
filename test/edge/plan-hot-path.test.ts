import { env } from "cloudflare:workers";
import { beforeAll, expect, it } from "vitest";
import { createGateway } from "../../src/index";
import type { Counters } from "../../src/lib/counters";
import { createIsolateState } from "../../src/state";
import { admin } from "../helpers/admin";
import { clock } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";

// An isolate of its own, whose background work is left running (a quota lease's hand-back waits 25 s).
const state = createIsolateState({ clock, usageFlushMs: 0 });
const gateway = createGateway(state);
const background: Promise<unknown>[] = [];
const ctx = {
  waitUntil: (p: Promise<unknown>) => void background.push(p.catch(() => undefined)),
  passThroughOnException() {},
};

let token: string;

beforeAll(async () => {
  await sandbox.reset();
  const idp = await TestIdp.create("https://plan-hot.example", "ES256");
  const res = await admin("POST", "/tenants", {
    body: {
      name: "Hot plan",
      identity: { issuer: idp.issuer, jwks: idp.jwks() },
      plan: { requestsPerSecond: 1000, sendsPerMinute: 10000, dailySends: 1_000_000 },
    },
  });
  expect(res.status, res.text).toBe(201);
  token = await idp.token();
});

async function send() {
  const res = await gateway.fetch(
    new Request("https://gateway.test/v1/messages", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ to: "+15551234567" }),
    }),
    env,
    ctx as unknown as ExecutionContext,
  );
  expect(res.status).toBe(202);
  await res.arrayBuffer();
}

it("far from every limit, the plan check and usage counting cost one Rate Limiting call a send: no D1 query, no awaited Durable Object call", async () => {
  await send(); // cold: the tenant, this isolate's team lease and the tenant's daily-quota lease
  await send();
  const before = { ...state.counters };
  for (let i = 0; i < 30; i++) await send();
  const cost = Object.fromEntries(
    Object.entries(state.counters).map(([k, v]) => [k, v - before[k as keyof Counters]]),
  ) as Counters;
  expect(cost).toMatchObject({
    rateLimitChecks: 30, // sendsPerMinute's binding, once a send
    d1Queries: 0,
    kvReads: 0,
    ledgerCalls: 0, // the quota's and the team's leases are local
    controlSyncs: 0,
    upstreamCalls: 30,
  });
  expect(cost.usageFlushes).toBeLessThanOrEqual(30); // in the background, one batch per flush
  expect(state.usage.stats().failedFlushes).toBe(0);
});
