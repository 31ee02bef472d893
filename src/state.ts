import { ControlSync } from "./control/control-sync";
import { JwksCache } from "./identity/key-sets";
import { TenantResolver } from "./identity/tenant-resolver";
import { BoundedCache } from "./lib/bounded-cache";
import { type Clock, systemClock } from "./lib/clock";
import { type Counters, createCounters } from "./lib/counters";
import { RateLimits } from "./limits/rate-limits";
import { UpstreamHolds } from "./limits/upstream-holds";
import { Budgets } from "./spend/budgets";
import type { CachedPrincipal } from "./storage/team-repo";
import { UsageRecorder } from "./usage/recorder";

/**
 * Everything a gateway isolate keeps in memory between requests, in one object created once per
 * isolate (src/index.ts) and passed down: caches, counters, the control-plane epoch, the leases it
 * holds. Nothing else in src/ keeps data in module memory; the only module-level memos are of the
 * immutable configuration (vars parsed per env in config.ts, routes compiled in edge/routes.ts, keys
 * imported in storage/key-vault.ts). What each part may cache, and for how long, is stated where it
 * is defined; GET /admin/v1/stats reports all of it.
 */
export interface IsolateState {
  clock: Clock;
  counters: Counters;
  jwks: JwksCache;
  tenants: TenantResolver;
  control: ControlSync;
  budgets: Budgets;
  /** Tenants' plans: rate-limit refusals standing in this isolate, tenant.rate_limited marks. */
  limits: RateLimits;
  /** Zavu's team-wide 429s, replayed briefly instead of asking Zavu again. */
  holds: UpstreamHolds;
  /** Usage counts not yet handed to a usage shard (at most one flush interval's worth). */
  usage: UsageRecorder;
  /**
   * Zavu's signing secrets of senders, opened, keyed by their ciphertext: a regenerated secret is a
   * new ciphertext, so this can never answer with a stale one (a deleted sender is checked in D1 first).
   */
  relaySecrets: BoundedCache<string, string>;
  /**
   * Relay ids D1 named no sender for: refused without a query for a minute. Relay ids are 192 random
   * bits made before their sender exists upstream, so no sender can be created under an id cached here.
   */
  unknownRelays: BoundedCache<string, true>;
  /**
   * Admin API keys (by the SHA-256 of their secret) and staff (by email) this isolate verified, with their
   * roles. Dropped whole by any team.* control-plane event (a key revoked, a staff role changed) and by a
   * reset, so a revocation holds in every isolate within CONSISTENCY_BOUND_MS; a minute at most otherwise.
   */
  principals: BoundedCache<string, CachedPrincipal>;
  /** When this isolate last wrote each admin key's last_used_at (at most once a minute per key). */
  keyTouches: BoundedCache<string, number>;
  startedAt: number;
}

/** Usage counts leave an isolate at most this often (and at least this soon after the request that made them). */
export const USAGE_FLUSH_MS = 1_000;

export function createIsolateState(opts: { clock?: Clock; usageFlushMs?: number } = {}): IsolateState {
  const clock = opts.clock ?? systemClock;
  const counters = createCounters();
  const jwks = new JwksCache(clock, counters);
  const tenants = new TenantResolver(clock, counters, jwks);
  const budgets = new Budgets(clock, counters);
  const principals = new BoundedCache<string, CachedPrincipal>({ maxEntries: 1_000, ttlMs: 60_000, clock });
  const control = new ControlSync(clock, counters, {
    // Leases are cents this isolate was given, whatever happens to the tenant's other settings:
    // they stay until spent or handed back (a dropped lease would hold its cents until it expires).
    // A refusal standing in this isolate is dropped: a new limit may allow what it refused.
    onEvents: (events) => {
      tenants.apply(events);
      for (const e of events) if (e.tenantId) budgets.reconsider(e.tenantId);
      if (events.some((e) => e.kind.startsWith("team."))) principals.clear();
    },
    onReset: () => {
      tenants.reset();
      principals.clear();
    },
  });
  return {
    clock,
    counters,
    jwks,
    tenants,
    control,
    budgets,
    limits: new RateLimits(clock, counters),
    holds: new UpstreamHolds(clock),
    usage: new UsageRecorder(clock, counters, opts.usageFlushMs ?? USAGE_FLUSH_MS),
    relaySecrets: new BoundedCache({ maxEntries: 10_000, ttlMs: 60 * 60_000, clock }),
    unknownRelays: new BoundedCache({ maxEntries: 10_000, ttlMs: 60_000, clock }),
    principals,
    keyTouches: new BoundedCache({ maxEntries: 1_000, ttlMs: 60_000, clock }),
    startedAt: clock.now(),
  };
}

/** The whole isolate state as numbers, for /admin/v1/stats. */
export function describeState(state: IsolateState) {
  const tenantStats = state.tenants.stats();
  const { refusals, ...limits } = state.limits.stats();
  return {
    counters: { ...state.counters },
    caches: {
      verifiedTokens: tenantStats.verifiedTokens,
      tenants: tenantStats.tenants,
      issuers: tenantStats.issuers,
      remoteJwks: state.jwks.stats(),
      budgets: state.budgets.stats().tenants,
      quotas: state.budgets.stats().quotas,
      rateLimitRefusals: refusals,
      relaySecrets: state.relaySecrets.stats(),
      unknownRelays: state.unknownRelays.stats(),
      principals: state.principals.stats(),
    },
    issuerRegistry: tenantStats.registry,
    control: state.control.stats(),
    team: state.budgets.stats().team,
    limits: { ...limits, teamHold: state.holds.stats() },
    usage: state.usage.stats(),
    uptimeMs: state.clock.now() - state.startedAt,
  };
}
