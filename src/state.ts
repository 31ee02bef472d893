import { ControlSync } from "./control/control-sync";
import { JwksCache } from "./identity/key-sets";
import { TenantResolver } from "./identity/tenant-resolver";
import { type Clock, systemClock } from "./lib/clock";
import { type Counters, createCounters } from "./lib/counters";
import { Budgets } from "./spend/budgets";

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
  startedAt: number;
}

export function createIsolateState(opts: { clock?: Clock } = {}): IsolateState {
  const clock = opts.clock ?? systemClock;
  const counters = createCounters();
  const jwks = new JwksCache(clock, counters);
  const tenants = new TenantResolver(clock, counters, jwks);
  const budgets = new Budgets(clock, counters);
  const control = new ControlSync(clock, counters, {
    // Leases are cents this isolate was given, whatever happens to the tenant's other settings:
    // they stay until spent or handed back (a dropped lease would hold its cents until it expires).
    // A refusal standing in this isolate is dropped: a new limit may allow what it refused.
    onEvents: (events) => {
      tenants.apply(events);
      for (const e of events) if (e.tenantId) budgets.reconsider(e.tenantId);
    },
    onReset: () => tenants.reset(),
  });
  return { clock, counters, jwks, tenants, control, budgets, startedAt: clock.now() };
}

/** The whole isolate state as numbers, for /admin/v1/stats. */
export function describeState(state: IsolateState) {
  const tenantStats = state.tenants.stats();
  return {
    counters: { ...state.counters },
    caches: {
      verifiedTokens: tenantStats.verifiedTokens,
      tenants: tenantStats.tenants,
      issuers: tenantStats.issuers,
      remoteJwks: state.jwks.stats(),
      budgets: state.budgets.stats().tenants,
    },
    issuerRegistry: tenantStats.registry,
    control: state.control.stats(),
    team: state.budgets.stats().team,
    uptimeMs: state.clock.now() - state.startedAt,
  };
}
