import { BoundedCache } from "../lib/bounded-cache";
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

/** Entries of tenants near a limit are refreshed from Zavu after this long, the others after FAR_FRESH_MS. */
export const BALANCE_FRESH_MS = 30_000;
export const FAR_FRESH_MS = 5 * 60_000;
/** KV keeps entries well past freshness so a stale one can still answer while refreshing. */
const KV_TTL_SECONDS = 24 * 3600;
/** How long an isolate trusts its own copy before reading KV again, unless the status epoch moves. */
const MEMO_MS = 5 * 60_000;
/** How often an isolate reads the status epoch: the bound on how late an admin change arrives. */
export const EPOCH_CHECK_MS = 5_000;
const EPOCH_KEY = "status-epoch";
/** KV allows one write per second per key; coalesce faster updates in the isolate. */
const MIN_WRITE_INTERVAL_MS = 1_000;

const kvKey = (tenantId: string) => `bal:${tenantId}`;

interface Memo {
  entry: BalanceEntry;
  checkedAt: number;
  /** The status epoch it was checked under; a newer epoch sends it back to KV. */
  epoch: number;
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
    balance:
      stored.balance === null || local.balance === null ? stored.balance : Math.min(stored.balance, local.balance),
    exhausted: stored.exhausted ?? local.exhausted ?? null,
  };
}

/** This isolate's copy, without touching KV (undefined when it has none). */
export function peekBalance(tenantId: string): BalanceEntry | undefined {
  return memo.get(tenantId)?.entry;
}

/**
 * Admin changes to any tenant's status or limit bump one KV key. Reading that one key every few
 * seconds tells an isolate whether to re-check its copies, whatever the number of tenants:
 * per-tenant copies can then live for minutes.
 */
const epoch = { value: 0, checkedAt: Number.NEGATIVE_INFINITY };

/**
 * The epoch this isolate knows. When due, the edge re-reads it in the background (never on a
 * request's path). The throttle is the start time alone: a poll cancelled with its request
 * cannot wedge polling, the next one simply starts on time.
 */
function currentEpoch(kv: KVNamespace, now: number, waitUntil?: (p: Promise<unknown>) => void): number {
  if (waitUntil && now - epoch.checkedAt >= EPOCH_CHECK_MS) {
    epoch.checkedAt = now;
    counters.kvReadsBackground++;
    waitUntil(
      kv.get(EPOCH_KEY).then(
        (stored) => {
          epoch.value = Math.max(epoch.value, Number(stored ?? 0));
        },
        () => undefined,
      ),
    );
  }
  return epoch.value;
}

/** Called by the admin API after a status or limit change (the tenant's own entry is written too). */
export async function bumpStatusEpoch(kv: KVNamespace): Promise<void> {
  const now = Date.now();
  epoch.value = Math.max(epoch.value + 1, now);
  counters.kvWrites++;
  await kv.put(EPOCH_KEY, String(epoch.value)).catch(() => undefined); // KV allows 1 write/s per key; a lost bump is caught by the next
}

export async function readBalance(
  kv: KVNamespace,
  tenantId: string,
  waitUntil?: (p: Promise<unknown>) => void,
): Promise<BalanceEntry | null> {
  const now = Date.now();
  const current = currentEpoch(kv, now, waitUntil);
  const local = memo.get(tenantId, now);
  if (local && local.epoch >= current && now - local.checkedAt < MEMO_MS) return local.entry;
  counters.kvReads++;
  const entry = merge(local?.entry, await kv.get<BalanceEntry>(kvKey(tenantId), "json"));
  if (entry) memo.set(tenantId, { entry, checkedAt: now, epoch: current }, undefined, now);
  return entry;
}

/**
 * Stores an entry in the isolate and, per `kv`: "always" (admin changes, refreshes, refusals),
 * "throttled" (at most once a second per tenant from this isolate, KV's own limit), or
 * "never" (routine spend far from any limit: only this isolate needs to know before the next refresh).
 */
export async function writeBalance(
  kvNs: KVNamespace,
  tenantId: string,
  entry: BalanceEntry,
  kv: "always" | "throttled" | "never" = "always",
): Promise<void> {
  memo.set(tenantId, { entry, checkedAt: Date.now(), epoch: epoch.value });
  if (kv === "never" || (kv === "throttled" && lastWrite.get(tenantId) !== undefined)) return;
  lastWrite.set(tenantId, Date.now());
  counters.kvWrites++;
  await kvNs.put(kvKey(tenantId), JSON.stringify(entry), { expirationTtl: KV_TTL_SECONDS });
}

/** Updates this isolate's copy only. */
export function rememberBalance(tenantId: string, entry: BalanceEntry): void {
  const local = memo.get(tenantId);
  memo.set(tenantId, { entry, checkedAt: local?.checkedAt ?? Date.now(), epoch: local?.epoch ?? epoch.value });
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
