import type { Env } from "../env";
import type { Counters } from "../lib/counters";
import { type MonthlyRow, type UsageRecord, UsageRepo } from "../storage/usage-repo";
import { toCsv } from "./csv";
import { utcDay } from "./rows";
import { flushShards } from "./shards";

/*
 * What the admin API and the console read about usage, from one place: both flush the shards first
 * (so a reader sees every count an isolate has handed over) and total the same way.
 */

export const MAX_USAGE_DAYS = 366;
const DAY = 86_400_000;

export interface UsageTotals {
  sends: number;
  refusals: number;
  delivered: number;
  failed: number;
  costCents: number;
}

/** The default period of a tenant's usage: the 31 days up to `to` (today), inclusive. */
export function usagePeriod(from: string | undefined, to: string | undefined, now = Date.now()) {
  const end = to ?? utcDay(now).date;
  const start = from ?? new Date(Date.parse(`${end}T00:00:00Z`) - 30 * DAY).toISOString().slice(0, 10);
  const days = (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / DAY;
  return { from: start, to: end, valid: days >= 0 && days < MAX_USAGE_DAYS };
}

export function totalsOf(
  records: Array<Pick<UsageRecord, "sends" | "refusals" | "delivered" | "failed" | "costCents">>,
) {
  const totals: UsageTotals = { sends: 0, refusals: 0, delivered: 0, failed: 0, costCents: 0 };
  for (const r of records) {
    totals.sends += r.sends;
    for (const n of Object.values(r.refusals)) totals.refusals += n;
    totals.delivered += r.delivered;
    totals.failed += r.failed;
    totals.costCents += r.costCents;
  }
  return totals;
}

/** A tenant's records from `from` to `to` (inclusive), oldest first, their totals and latest reconciliations. */
export async function tenantUsage(env: Env, counters: Counters, tenantId: string, from: string, to: string) {
  await flushShards(env, counters);
  const repo = new UsageRepo(env.DB, counters);
  const [records, reconciliations] = await Promise.all([
    repo.forTenant(tenantId, from, to),
    repo.reconciliations(tenantId),
  ]);
  return { records, totals: totalsOf(records), reconciliations };
}

/** The first day of a month (YYYY-MM) and of the next: the month is [from, to). */
export function monthBounds(month: string): { from: string; to: string } {
  const [year, m] = month.split("-").map(Number) as [number, number];
  const next = m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, "0")}`;
  return { from: `${month}-01`, to: `${next}-01` };
}

/** Every tenant's usage in a month (YYYY-MM), one row per tenant and channel. */
export async function monthlyUsage(env: Env, counters: Counters, month: string): Promise<MonthlyRow[]> {
  const { from, to } = monthBounds(month);
  await flushShards(env, counters);
  return new UsageRepo(env.DB, counters).monthly(from, to);
}

const CSV_HEADER = [
  "tenant_id",
  "name",
  "external_id",
  "month",
  "channel",
  "sends",
  "refusals",
  "refusals_by_code",
  "cost_cents",
  "cost_usd",
  "estimated",
  // Added after the others, so a sheet that reads columns by position keeps working.
  "delivered",
  "failed",
];

/** A month's rows as the CSV an invoice run reads (see toCsv). */
export function monthlyCsv(month: string, rows: MonthlyRow[]): string {
  return toCsv(
    CSV_HEADER,
    rows.map((r) => [
      r.tenantId,
      r.name,
      r.externalId,
      month,
      r.channel,
      r.sends,
      Object.values(r.refusals).reduce((a, b) => a + b, 0),
      Object.entries(r.refusals)
        .map(([code, n]) => `${code}=${n}`)
        .join("; "),
      r.costCents,
      (r.costCents / 100).toFixed(2),
      r.estimatedCents !== 0,
      r.delivered,
      r.failed,
    ]),
  );
}

/**
 * The team's usage over [from, to): by day (every tenant and channel together, oldest first) and the
 * `top` tenants by cost.
 */
export async function teamUsage(env: Env, counters: Counters, from: string, to: string, top = 10) {
  await flushShards(env, counters);
  const repo = new UsageRepo(env.DB, counters);
  const [days, tenants] = await Promise.all([repo.daily(from, to), repo.topTenants(from, to, top)]);
  return { days, tenants };
}
