/**
 * A security-relevant change, as the control plane logs it: every isolate drops what it caches
 * about the tenant and the issuers named, and reads D1 again on next use.
 */
export interface ChangeEvent {
  /** Position in the log (assigned by the control plane). */
  epoch: number;
  /** When the control plane logged it (its clock, ms). */
  at: number;
  /** e.g. "tenant.status", "tenant.identity", "tenant.key", "tenant.limit", "tenant.created". */
  kind: string;
  tenantId: string | null;
  /** Issuers whose registrations changed (gained or lost a tenant, or a claim value). */
  issuers: string[];
}

export type ChangeInput = Omit<ChangeEvent, "epoch" | "at">;

export interface SyncAnswer {
  /** The newest epoch. */
  epoch: number;
  /** Events after `since`, oldest first; null when `since` is older than the log keeps (drop everything). */
  events: ChangeEvent[] | null;
}

/**
 * How stale an isolate's cached view may be: a request uses cached tenants, tokens and issuers only
 * if its isolate started a successful sync with the control plane at most this long ago. A change the
 * control plane logged at time t is therefore honoured by every request that starts after t + BOUND.
 */
export const CONSISTENCY_BOUND_MS = 5_000;
/** Isolates re-sync in the background once their view is this old, so busy isolates never wait. */
export const BACKGROUND_SYNC_AFTER_MS = 2_000;
/**
 * An identity released by one tenant is given to another only after this long: by then no isolate
 * can still route its tokens to the tenant that released it (the bound, plus margin for clock skew
 * between machines).
 */
export const IDENTITY_QUARANTINE_MS = CONSISTENCY_BOUND_MS + 2_000;
/**
 * The longest an isolate keeps a tenant or issuer entry even without an event: the bound that holds
 * if an admin change is committed but its publication is delayed (the outbox retries it).
 */
export const TENANT_CACHE_TTL_MS = 5 * 60_000;
