import { BoundedCache } from "./bounded-cache";
import { counters } from "./counters";
import type { TenantStatus } from "./tenants";

/** A tenant's spending position as last seen upstream, plus the status the admin set. */
export interface BalanceEntry {
  status: TenantStatus;
  /** Team balance in cents; null when never fetched. */
  balance: number | null;
  totalSpent: number;
  /** Cents; null or 0 = no cap. */
  creditLimit: number | null;
  fetchedAt: number;
  /** Set when upstream refused a spend with 402; cleared by the next refresh. */
  exhausted?: "credit_limit_reached" | "insufficient_balance" | null;
  /** The cost of this tenant's last send whose answer was read, in cents: the estimate for the others. */
  lastCostCents?: number;
}

/** Entries younger than this are used as they are; older ones are refreshed in the background. */
export const BALANCE_FRESH_MS = 30_000;
/** KV keeps entries well past freshness so a stale one can still answer while refreshing. */
const KV_TTL_SECONDS = 24 * 3600;
/** How long an isolate trusts its own copy before reading KV again. */
const MEMO_MS = 10_000;
/** KV allows one write per second per key; coalesce faster updates in the isolate. */
const MIN_WRITE_INTERVAL_MS = 1_000;

const kvKey = (tenantId: string) => `bal:${tenantId}`;

interface Memo {
  entry: BalanceEntry;
  checkedAt: number;
}
/** The isolate's copy: re-checked against KV every MEMO_MS, kept (bounded) for merging. */
const memo = new BoundedCache<string, Memo>(10_000, 10 * 60_000);
const lastWrite = new BoundedCache<string, number>(10_000, MIN_WRITE_INTERVAL_MS);

export function balanceCacheStats() {
  return { size: memo.size, max: memo.maxEntries };
}

/**
 * KV's entry wins when it comes from a newer upstream refresh. Within one refresh generation
 * the isolate may have counted sends KV has not seen: keep the larger spend.
 */
function merge(local: BalanceEntry | undefined, stored: BalanceEntry | null): BalanceEntry | null {
  if (!stored) return local ?? null;
  if (!local || stored.fetchedAt > local.fetchedAt) return stored;
  return {
    ...stored,
    totalSpent: Math.max(stored.totalSpent, local.totalSpent),
    balance: stored.balance === null || local.balance === null ? stored.balance : Math.min(stored.balance, local.balance),
    exhausted: stored.exhausted ?? local.exhausted ?? null,
  };
}

/** This isolate's copy, without touching KV (undefined when it has none). */
export function peekBalance(tenantId: string): BalanceEntry | undefined {
  return memo.get(tenantId)?.entry;
}

export async function readBalance(kv: KVNamespace, tenantId: string): Promise<BalanceEntry | null> {
  const now = Date.now();
  const local = memo.get(tenantId, now);
  if (local && now - local.checkedAt < MEMO_MS) return local.entry;
  counters.kvReads++;
  const entry = merge(local?.entry, await kv.get<BalanceEntry>(kvKey(tenantId), "json"));
  if (entry) memo.set(tenantId, { entry, checkedAt: now }, undefined, now);
  return entry;
}

/**
 * Stores an entry in the isolate and, per `kv`: "always" (admin changes, refreshes, refusals),
 * "throttled" (at most once a second per tenant from this isolate, KV's own limit), or
 * "never" (routine spend far from any limit: only this isolate needs to know before the next refresh).
 */
export async function writeBalance(kvNs: KVNamespace, tenantId: string, entry: BalanceEntry, kv: "always" | "throttled" | "never" = "always"): Promise<void> {
  memo.set(tenantId, { entry, checkedAt: Date.now() });
  if (kv === "never" || (kv === "throttled" && lastWrite.get(tenantId) !== undefined)) return;
  lastWrite.set(tenantId, Date.now());
  counters.kvWrites++;
  await kvNs.put(kvKey(tenantId), JSON.stringify(entry), { expirationTtl: KV_TTL_SECONDS });
}

/** Updates this isolate's copy only. */
export function rememberBalance(tenantId: string, entry: BalanceEntry): void {
  const checkedAt = memo.get(tenantId)?.checkedAt ?? Date.now();
  memo.set(tenantId, { entry, checkedAt });
}

/** Removes the entry everywhere this isolate can reach, so the next request fetches it afresh. */
export async function dropBalance(kv: KVNamespace, tenantId: string): Promise<void> {
  memo.delete(tenantId);
  lastWrite.delete(tenantId);
  await kv.delete(kvKey(tenantId));
}

export function forgetBalance(tenantId: string): void {
  memo.delete(tenantId);
}
