import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { JwksCache } from "../../src/identity/key-sets";
import { type ResolveContext, TenantResolver } from "../../src/identity/tenant-resolver";
import { createCounters } from "../../src/lib/counters";
import { TenantRepo } from "../../src/storage/tenants/repo";
import { admin } from "../helpers/admin";
import { TestIdp } from "../helpers/idp";

/** D1 itself, with two reads that can be held: a registry read that landed late, an issuer check that is slow. */
class HeldRepo extends TenantRepo {
  staleIssuers: { snapshot: string[]; until: Promise<void> } | null = null;
  slowCheck: Promise<void> | null = null;

  override async issuers(): Promise<string[]> {
    const held = this.staleIssuers;
    if (!held) return super.issuers();
    this.staleIssuers = null;
    await held.until;
    return held.snapshot;
  }

  override async issuerRegistered(issuer: string): Promise<boolean> {
    const registered = await super.issuerRegistered(issuer);
    if (this.slowCheck) await this.slowCheck;
    return registered;
  }
}

function gate() {
  let open!: () => void;
  const closed = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { closed, open };
}

/** One isolate's resolver on D1, its clock frozen: the D1 allowance for unknown issuers (3) never refills. */
function isolate() {
  const counters = createCounters();
  const clock = { now: () => 1_800_000_000_000 };
  const resolver = new TenantResolver(clock, counters, new JwksCache(clock, counters));
  const repo = new HeldRepo(env.DB, counters);
  const ctx: ResolveContext = {
    repo,
    fresh: true,
    control: { epoch: 0, changedSince: () => false },
    remote: { kv: env.CACHE, waitUntil: () => undefined, allowHttpLoopback: false },
  };
  const garbage = async () => (await TestIdp.create(`https://garbage-${crypto.randomUUID()}.example`)).token();
  return { counters, clock, resolver, repo, ctx, garbage };
}

describe("the issuer registry while it loads", () => {
  it("a registration learned during a registry read that predates it is not lost: the requests after it need no D1 lookup", async () => {
    const { counters, resolver, repo, ctx, garbage } = isolate();

    // The registry is read before the tenant exists; two unknown issuers spend two of the three D1 checks.
    await expect(resolver.authenticate(await garbage(), ctx)).rejects.toMatchObject({ status: 401 });
    await expect(resolver.authenticate(await garbage(), ctx)).rejects.toMatchObject({ status: 401 });
    const beforeTenant = await repo.issuers();

    const idp = await TestIdp.create(`https://race-${crypto.randomUUID()}.example`);
    const res = await admin("POST", "/tenants", {
      body: { name: "Registry race", identity: { issuer: idp.issuer, jwks: idp.jwks() } },
    });
    expect(res.status, res.text).toBe(201);

    // B: the registry (read before the tenant) does not list the issuer, so B checks D1 (the third and
    // last check): slowly. Meanwhile the isolate resets and starts reading the registry again, and that read
    // lands last with what D1 held before the tenant (it started earlier).
    const slow = gate();
    repo.slowCheck = slow.closed;
    const b = resolver.authenticate(await idp.token({ jti: "b" }), ctx);
    await new Promise((r) => setTimeout(r, 20));
    resolver.reset();
    const load = gate();
    repo.staleIssuers = { snapshot: beforeTenant, until: load.closed };
    const c = resolver.authenticate(await idp.token({ jti: "c" }), ctx); // waits for the registry read
    await new Promise((r) => setTimeout(r, 20));
    slow.open(); // B learns the issuer is registered while the registry is still loading
    const tenantId = (res.body.tenant as { id: string }).id;
    expect((await b).tenant.id).toBe(tenantId);
    repo.slowCheck = null;
    const queriesBefore = counters.d1Queries;
    load.open(); // the stale registry lands

    // C waited on that read, D comes after it: both are served from what B learned, with no D1 query
    // (and there is no allowance left for one).
    expect((await c).tenant.id).toBe(tenantId);
    const d = await resolver.authenticate(await idp.token({ jti: "d" }), ctx);
    expect(d.tenant.id).toBe(tenantId);
    expect(counters.d1Queries - queriesBefore).toBe(0);
    expect(resolver.stats().registry).toMatchObject({ loaded: true, dirty: 1 });
  });

  it("a registry read started before a reset is not kept: an issuer registered in between is found by the read after it", async () => {
    const { clock, resolver, repo, ctx, garbage } = isolate();
    // The three D1 checks for unknown issuers are spent; the clock does not move, so none comes back.
    for (let i = 0; i < 3; i++)
      await expect(resolver.authenticate(await garbage(), ctx)).rejects.toMatchObject({ status: 401 });
    resolver.reset();

    // A reads the registry: the read starts now, before the tenant exists, and lands late.
    const load = gate();
    repo.staleIssuers = { snapshot: await repo.issuers(), until: load.closed };
    const a = resolver.authenticate(await garbage(), ctx);
    const idp = await TestIdp.create(`https://reset-race-${crypto.randomUUID()}.example`);
    const res = await admin("POST", "/tenants", {
      body: { name: "Registry reset", identity: { issuer: idp.issuer, jwks: idp.jwks() } },
    });
    expect(res.status, res.text).toBe(201);
    // The registration's event reaches this isolate, then a reset drops what the isolate knew.
    resolver.apply([{ epoch: 1, at: clock.now(), kind: "tenant.created", tenantId: null, issuers: [idp.issuer] }]);
    resolver.reset();
    const c = resolver.authenticate(await idp.token(), ctx); // after the reset: reads the registry anew
    load.open(); // A's read lands, older than the reset
    await expect(a).rejects.toMatchObject({ status: 401 });
    expect((await c).tenant.id).toBe((res.body.tenant as { id: string }).id);
    expect(resolver.stats().registry.loaded).toBe(true);
  });
});
