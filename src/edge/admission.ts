import { apiError } from "../errors";
import type { ResolvedTenant } from "../identity/resolve-tenant";
import {
  BALANCE_FRESH_MS,
  type BalanceEntry,
  FAR_FRESH_MS,
  readBalance,
  rememberBalance,
  writeBalance,
} from "../storage/balance-cache";
import { type Balance, zavuCall } from "../upstream/zavu-client";
import type { AllowedRoute } from "./routes";

export interface AdmissionDeps {
  kv: KVNamespace;
  upstreamBase: string;
  timeoutMs: number;
  waitUntil: (p: Promise<unknown>) => void;
}

/** Builds a cache entry from an upstream balance answer, keeping the admin-set status. */
export function entryFromBalance(balance: Balance, status: BalanceEntry["status"]): BalanceEntry {
  return {
    status,
    balance: balance.balance,
    totalSpent: balance.totalSpent ?? 0,
    creditLimit: balance.creditLimit ?? null,
    fetchedAt: Date.now(),
    exhausted: null,
  };
}

/** Tenants whose refresh is under way in this isolate: one at a time each. */
const refreshing = new Set<string>();

/**
 * How long an entry is used before Zavu is asked again: 30 s near a limit (where it decides
 * refusals), 5 min far from every limit (where it decides nothing). Spread by up to 50% per
 * tenant id, so tenants warmed together do not all refresh in the same second.
 */
function freshFor(tenantId: string, entry: BalanceEntry): number {
  let h = 0;
  for (let i = 0; i < tenantId.length; i++) h = (h * 31 + tenantId.charCodeAt(i)) | 0;
  const base = nearAnyLimit(entry) ? BALANCE_FRESH_MS : FAR_FRESH_MS;
  return base + (Math.abs(h) % (base / 2));
}

function refreshInBackground(tenant: ResolvedTenant, apiKey: string, stale: BalanceEntry, deps: AdmissionDeps): void {
  if (refreshing.has(tenant.id) || refreshing.size >= 1_000) return; // bounded like every other isolate structure
  refreshing.add(tenant.id);
  deps.waitUntil(
    refresh(tenant, apiKey, stale, deps)
      .catch(() => undefined)
      .finally(() => refreshing.delete(tenant.id)),
  );
}

async function refresh(tenant: ResolvedTenant, apiKey: string, previous: BalanceEntry | null, deps: AdmissionDeps) {
  const balance = await zavuCall<Balance>(deps.upstreamBase, apiKey, "GET", "/v1/balance", {
    timeoutMs: deps.timeoutMs,
  });
  const entry = {
    ...entryFromBalance(balance, previous?.status ?? tenant.status),
    lastCostCents: previous?.lastCostCents,
  };
  await writeBalance(deps.kv, tenant.id, entry);
  return entry;
}

/**
 * Refuses early what the tenant's status and cached spending position forbid. A missing
 * entry is fetched before deciding; a stale one answers now and is refreshed in the background.
 * When Zavu cannot tell us the balance we let the call through: Zavu enforces limits itself.
 */
export async function admit(
  tenant: ResolvedTenant,
  route: AllowedRoute,
  apiKey: string,
  deps: AdmissionDeps,
): Promise<void> {
  if (tenant.status === "deactivated") throw deactivated();
  let entry = await readBalance(deps.kv, tenant.id, deps.waitUntil);
  if (!entry) {
    entry = await refresh(tenant, apiKey, null, deps).catch(() => null);
  } else if (Date.now() - entry.fetchedAt > freshFor(tenant.id, entry)) {
    refreshInBackground(tenant, apiKey, entry, deps);
  }
  const status = entry?.status ?? tenant.status;
  if (status === "deactivated") throw deactivated();
  if (status === "provisioning") throw apiError("tenant_not_ready", "This tenant is still being provisioned.");
  if (status === "inactive" && route.kind !== "balance") {
    throw apiError("tenant_suspended", "This tenant is suspended; messaging is blocked. The balance stays readable.");
  }
  if (!route.spending || !entry) return;
  if (entry.exhausted === "credit_limit_reached" || (entry.creditLimit && entry.totalSpent >= entry.creditLimit)) {
    throw apiError("credit_limit_reached", "This tenant has reached its credit limit.");
  }
  if (entry.exhausted === "insufficient_balance" || (entry.balance !== null && entry.balance <= 0)) {
    throw apiError("insufficient_balance", "The balance available to this tenant is exhausted.");
  }
}

const deactivated = () => apiError("tenant_deactivated", "This tenant has been deactivated.");

/** Share other isolates need to see through KV: spend within 20% of the limit, or a team balance under $10. */
const NEAR_LIMIT = 0.8;
const LOW_BALANCE_CENTS = 1_000;
/** From half the limit (or a team balance under $100) on, every send's exact cost is read. */
const EXACT_FROM = 0.5;

/**
 * Whether a send's answer must be read for its exact cost. Reading a body costs ~110 µs of CPU
 * (measured); streaming it through costs nothing. Far from every limit an estimate (the
 * tenant's last observed cost) is enough: refreshes correct it every 30 s and Zavu enforces
 * the limits itself.
 */
export function needsExactCost(entry: BalanceEntry | undefined): boolean {
  return !entry || entry.lastCostCents === undefined || nearAnyLimit(entry);
}

/** At half the credit limit or more (counting the next send), or a team balance under $100. */
function nearAnyLimit(entry: BalanceEntry): boolean {
  if (entry.exhausted) return true;
  if (entry.creditLimit && entry.totalSpent + (entry.lastCostCents ?? 0) >= entry.creditLimit * EXACT_FROM) return true;
  return entry.balance !== null && entry.balance < LOW_BALANCE_CENTS * 10;
}

/** Far from limits: count the estimated cost in this isolate only (no I/O). */
export function recordEstimatedSpend(tenantId: string, entry: BalanceEntry): void {
  const cents = entry.lastCostCents ?? 0;
  rememberBalance(tenantId, {
    ...entry,
    totalSpent: entry.totalSpent + cents,
    balance: entry.balance === null ? null : entry.balance - cents,
  });
}

/**
 * After a send whose answer was read: count its exact cost at once, so the limit bites
 * before the next refresh. KV hears of it only when the tenant nears a limit.
 */
export async function recordSpend(kv: KVNamespace, tenantId: string, costTotalUsd: number): Promise<void> {
  const entry = await readBalance(kv, tenantId);
  if (!entry || !(costTotalUsd >= 0)) return;
  const cents = Math.ceil(Math.round(costTotalUsd * 1e6) / 1e4); // USD -> cents, rounded up, float-safe
  const next = {
    ...entry,
    totalSpent: entry.totalSpent + cents,
    balance: entry.balance === null ? null : entry.balance - cents,
    lastCostCents: cents,
  };
  const nearLimit = !!next.creditLimit && next.totalSpent >= next.creditLimit * NEAR_LIMIT;
  const lowBalance = next.balance !== null && next.balance < LOW_BALANCE_CENTS;
  await writeBalance(kv, tenantId, next, nearLimit || lowBalance ? "throttled" : "never");
}

/** Upstream refused a spend with 402: mark the entry exhausted until the next refresh. */
export async function recordRefusal(kv: KVNamespace, tenantId: string, code: string): Promise<void> {
  const entry = await readBalance(kv, tenantId);
  if (!entry) return;
  const exhausted = code === "insufficient_balance" ? "insufficient_balance" : "credit_limit_reached";
  await writeBalance(kv, tenantId, { ...entry, exhausted });
}
