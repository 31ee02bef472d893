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
}

/** Entries younger than this are used as they are; older ones are refreshed in the background. */
export const BALANCE_FRESH_MS = 30_000;
/** KV keeps entries well past freshness so a stale one can still answer while refreshing. */
const KV_TTL_SECONDS = 24 * 3600;
/** How long an isolate trusts its own copy before reading KV again. */
const MEMO_MS = 1_000;
/** KV allows one write per second per key; coalesce faster updates in the isolate. */
const MIN_WRITE_INTERVAL_MS = 1_000;

const kvKey = (tenantId: string) => `bal:${tenantId}`;

const memo = new BoundedCache<string, BalanceEntry>(10_000, MEMO_MS);
const lastWrite = new BoundedCache<string, number>(10_000, MIN_WRITE_INTERVAL_MS);

export function balanceCacheStats() {
  return { size: memo.size, max: memo.maxEntries };
}

export async function readBalance(kv: KVNamespace, tenantId: string): Promise<BalanceEntry | null> {
  const cached = memo.get(tenantId);
  if (cached) return cached;
  counters.kvReads++;
  const entry = await kv.get<BalanceEntry>(kvKey(tenantId), "json");
  if (entry) memo.set(tenantId, entry);
  return entry;
}

/**
 * Stores an entry in the isolate at once and in KV. `force` (admin changes, refusals)
 * always writes; routine updates are skipped when this isolate wrote the key under a second ago.
 */
export async function writeBalance(kv: KVNamespace, tenantId: string, entry: BalanceEntry, force = false): Promise<void> {
  memo.set(tenantId, entry);
  if (!force && lastWrite.get(tenantId) !== undefined) return;
  lastWrite.set(tenantId, Date.now());
  counters.kvWrites++;
  await kv.put(kvKey(tenantId), JSON.stringify(entry), { expirationTtl: KV_TTL_SECONDS });
}

export function forgetBalance(tenantId: string): void {
  memo.delete(tenantId);
}

/** Removes the entry everywhere this isolate can reach, so the next request fetches it afresh. */
export async function dropBalance(kv: KVNamespace, tenantId: string): Promise<void> {
  memo.delete(tenantId);
  lastWrite.delete(tenantId);
  await kv.delete(kvKey(tenantId));
}
