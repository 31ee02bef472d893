import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { gatewayFetch } from "../helpers/gateway";
import { publishJwks, TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";

type Counters = Record<
  | "d1Queries"
  | "kvReads"
  | "kvReadsBackground"
  | "kvWrites"
  | "jwksFetches"
  | "keyImports"
  | "signatureVerifications"
  | "upstreamCalls",
  number
>;

/** The worker's own counters, read through its stats endpoint (not this test's module copy). */
async function counters(): Promise<Counters> {
  return (await admin("GET", "/stats")).body.counters;
}

async function costOf(work: () => Promise<unknown>): Promise<Counters> {
  const before = await counters();
  await work();
  const after = await counters();
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof Counters]])) as Counters;
}

async function send(token: string) {
  const res = await gatewayFetch("/v1/messages", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ to: "+15551234567" }),
  });
  expect(res.status).toBe(202);
  await res.text();
}

let inline: TestIdp;
let remote: TestIdp;

beforeAll(async () => {
  await sandbox.reset();
  inline = await TestIdp.create("https://hot-inline.example", "RS256");
  remote = await TestIdp.create("https://hot-remote.example", "ES256");
  expect(
    (
      await admin("POST", "/tenants", {
        body: { name: "Inline", identity: { issuer: inline.issuer, jwks: inline.jwks() } },
      })
    ).status,
  ).toBe(201);
  const uri = await publishJwks("/hot/jwks.json", remote.jwks());
  expect(
    (await admin("POST", "/tenants", { body: { name: "Remote", identity: { issuer: remote.issuer, jwksUri: uri } } }))
      .status,
  ).toBe(201);
});

describe("hot path cost, in counts", () => {
  it("cold: at most 1 D1 query and 2 KV reads before forwarding (remote JWKS tenant)", async () => {
    const token = await remote.token();
    const cost = await costOf(() => send(token));
    expect(cost.d1Queries).toBe(1);
    expect(cost.kvReads).toBeLessThanOrEqual(2); // the JWKS entry and the balance entry
    expect(cost.kvReadsBackground).toBeLessThanOrEqual(1); // at most the status epoch, polled in waitUntil
    expect(cost.signatureVerifications).toBe(1);
    expect(cost.upstreamCalls).toBe(2); // the balance refresh (entry was absent) and the send
  });

  it("cold: an inline-JWKS tenant needs 1 D1 query and 1 KV read", async () => {
    const token = await inline.token();
    const first = await costOf(() => send(token));
    expect(first.d1Queries).toBeLessThanOrEqual(1);
    expect(first.kvReads).toBeLessThanOrEqual(1);
  });

  it("hot: a token seen before costs 0 D1 queries, at most 1 KV read, no JWKS fetch, no key import, no signature check", async () => {
    for (const idp of [inline, remote]) {
      const token = await idp.token({ sub: "hot-user" });
      await send(token); // first sight of this token: verified once
      const requests = 50;
      const cost = await costOf(async () => {
        for (let i = 0; i < requests; i++) await send(token);
      });
      expect(cost.d1Queries).toBe(0);
      expect(cost.kvReads).toBeLessThanOrEqual(requests);
      expect(cost.jwksFetches).toBe(0);
      expect(cost.keyImports).toBe(0);
      expect(cost.signatureVerifications).toBe(0);
      expect(cost.upstreamCalls).toBe(requests); // the sends themselves, nothing else
    }
  });

  it("a new token of a known tenant costs one signature check and nothing else", async () => {
    const cost = await costOf(async () => send(await remote.token({ sub: "another-user" })));
    expect(cost).toMatchObject({ d1Queries: 0, jwksFetches: 0, keyImports: 0, signatureVerifications: 1 });
  });

  it("reports bounded cache sizes", async () => {
    const { caches } = (await admin("GET", "/stats")).body;
    for (const cache of Object.values(caches) as Array<{ size: number; max: number }>) {
      expect(cache.size).toBeLessThanOrEqual(cache.max);
      expect(cache.max).toBeGreaterThan(0);
    }
    expect(caches.verifiedTokens.size).toBeGreaterThan(0);
  });
});
