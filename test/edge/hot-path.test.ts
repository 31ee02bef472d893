import { beforeAll, describe, expect, it } from "vitest";
import type { Counters } from "../../src/lib/counters";
import { admin } from "../helpers/admin";
import { gatewayFetch, state } from "../helpers/gateway";
import { publishJwks, TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";

/** The work a piece of traffic cost this file's gateway isolate, from its own counters. */
async function costOf(work: () => Promise<unknown>): Promise<Counters> {
  const before = { ...state.counters };
  await work();
  return Object.fromEntries(
    Object.entries(state.counters).map(([k, v]) => [k, v - before[k as keyof Counters]]),
  ) as Counters;
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
  const a = await admin("POST", "/tenants", {
    body: { name: "Inline", identity: { issuer: inline.issuer, jwks: inline.jwks() } },
  });
  expect(a.status).toBe(201);
  const uri = await publishJwks("/hot/jwks.json", remote.jwks());
  const b = await admin("POST", "/tenants", {
    body: { name: "Remote", identity: { issuer: remote.issuer, jwksUri: uri } },
  });
  expect(b.status).toBe(201);
});

describe("hot path cost, in counts", () => {
  it("cold isolate, cold tenant: 1 control-plane sync, 1 D1 query for the issuer registry and 1 for the tenant, 1 team lease", async () => {
    const cost = await costOf(async () => send(await remote.token()));
    expect(cost.controlSyncs).toBe(1); // the admin calls above published changes: this isolate syncs first
    expect(cost.d1Queries).toBe(2); // every registered issuer (once per isolate), then the tenant
    expect(cost.kvReads).toBe(1); // no copy of the JWKS in KV yet ...
    expect(cost.jwksFetches).toBe(1); // ... so it is fetched once, and stored there for other isolates
    expect(cost.signatureVerifications).toBe(1);
    expect(cost.ledgerCalls).toBe(1); // this isolate's first lease on the team balance
    expect(cost.upstreamCalls).toBe(1); // the send itself
  });

  it("cold tenant in a warm isolate: 1 D1 query, no KV read, no ledger call (inline JWKS, no credit limit)", async () => {
    const cost = await costOf(async () => send(await inline.token()));
    expect(cost).toMatchObject({
      d1Queries: 1,
      kvReads: 0,
      ledgerCalls: 0,
      controlSyncs: 0,
      signatureVerifications: 1,
    });
  });

  it("hot: a token seen before costs no D1 query, KV read, JWKS fetch, key import, signature check or ledger call", async () => {
    for (const idp of [inline, remote]) {
      const token = await idp.token({ sub: "hot-user" });
      await send(token); // first sight of this token: verified once
      const requests = 50;
      const cost = await costOf(async () => {
        for (let i = 0; i < requests; i++) await send(token);
      });
      expect(cost).toMatchObject({
        d1Queries: 0,
        kvReads: 0,
        jwksFetches: 0,
        keyImports: 0,
        signatureVerifications: 0,
        ledgerCalls: 0,
        controlSyncs: 0,
        upstreamCalls: requests, // the sends themselves, nothing else
      });
    }
  });

  it("a new token of a known tenant costs one signature check and nothing else", async () => {
    const cost = await costOf(async () => send(await remote.token({ sub: "another-user" })));
    expect(cost).toMatchObject({ d1Queries: 0, kvReads: 0, jwksFetches: 0, keyImports: 0, signatureVerifications: 1 });
  });

  it("refuses a token of an issuer registered nowhere without a D1 query", async () => {
    const stranger = await TestIdp.create("https://stranger.example", "ES256");
    const cost = await costOf(async () => {
      const res = await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${await stranger.token()}` } });
      expect(res.status).toBe(401);
    });
    expect(cost).toMatchObject({ d1Queries: 0, unknownIssuerRejections: 1, signatureVerifications: 0 });
  });

  it("reports bounded cache sizes through /admin/v1/stats", async () => {
    const { caches, control, issuerRegistry } = (await admin("GET", "/stats")).body;
    for (const cache of Object.values(caches) as Array<{ size: number; max: number }>) {
      expect(cache.size).toBeLessThanOrEqual(cache.max);
      expect(cache.max).toBeGreaterThan(0);
    }
    expect(caches.verifiedTokens.size).toBeGreaterThan(0);
    expect(issuerRegistry).toMatchObject({ loaded: true, size: 2 });
    expect(control.epoch).toBeGreaterThan(0);
  });
});
