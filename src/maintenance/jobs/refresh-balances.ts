import { snapshotKey } from "../../spend/spend-ledger";
import { TenantScans } from "../../storage/tenants";
import { audit } from "../../tenants/context";
import type { MaintenanceJob } from "../job";

const PAGE = 25;
const PASS_INTERVAL_MS = 15 * 60_000;
/** A drift this large (cents, or 1% of the credit limit when that is more) is written to the audit log. */
const NOTABLE_DRIFT_CENTS = 100;

/**
 * Reads every live tenant's spend from Zavu, a page per step: a tenant with a credit limit through
 * its spend ledger (which refreshes), the others straight from Zavu into the copy listings show.
 * Drift is what the gateway counted (ledger or copy) minus what Zavu says; a notable one is audited.
 * The team's ledger is refreshed once per pass.
 */
export const refreshBalances: MaintenanceJob = {
  name: "refresh-balances",
  description: "Refreshes spend ledgers and listing copies from Zavu, a page at a time, and records the drift",
  unitCost: 3, // a Zavu read (through the ledger or directly), a ledger or KV call, the tenant's share of a page

  due: (state, ctx) => state.lastPassEndedAt === null || ctx.now - state.lastPassEndedAt >= PASS_INTERVAL_MS,

  async run(ctx, cursor) {
    const scans = new TenantScans(ctx.deps.db, ctx.deps.counters);
    const counts = { tenants: 0, drifted: 0, driftCents: 0, maxDriftCents: 0, failed: 0 };
    if (cursor === null) {
      const team = { kind: "team" } as const;
      await ctx.deps
        .ledger(team)
        .snapshot(team, true)
        .catch(() => counts.failed++);
    }
    let after = cursor ?? "";
    for (let pages = 0; pages < ctx.maxItems; pages++) {
      if (!ctx.budget.allows(this.unitCost * PAGE)) return { cursor: after, counts };
      const page = await scans.live({ after, limit: PAGE });
      for (const t of page) {
        try {
          const drift = await refreshOne(ctx, t);
          counts.tenants++;
          const size = Math.abs(drift);
          if (size > 0) counts.drifted++;
          counts.driftCents += size;
          counts.maxDriftCents = Math.max(counts.maxDriftCents, size);
          if (size >= Math.max(NOTABLE_DRIFT_CENTS, (t.creditLimit ?? 0) / 100)) {
            await ctx.deps.repo.batch([audit(ctx.deps, "maintenance.balance.drift", t.id, { driftCents: drift })]);
          }
        } catch {
          counts.failed++;
        }
        after = t.id;
      }
      if (page.length < PAGE) return { cursor: null, counts };
    }
    return { cursor: after, counts };
  },
};

/** Refreshes one tenant; returns the drift in cents (counted minus Zavu's). */
async function refreshOne(
  ctx: Parameters<MaintenanceJob["run"]>[0],
  t: { id: string; subAccountId: string; creditLimit: number | null },
): Promise<number> {
  if (t.creditLimit) {
    const subject = { kind: "tenant", tenantId: t.id, subAccountId: t.subAccountId } as const;
    const ledger = ctx.deps.ledger(subject);
    const before = await ledger.snapshot(subject);
    const after = await ledger.snapshot(subject, true);
    return before.refreshedAt === 0 ? 0 : before.counted - after.counted;
  }
  const { subAccount } = await ctx.deps.zavu.getSubAccount(t.subAccountId);
  ctx.deps.counters.kvReads++;
  const copy = await ctx.deps.kv.get<{ spent: number }>(snapshotKey(t.id), "json");
  if (copy?.spent !== subAccount.totalSpent) {
    ctx.deps.counters.kvWrites++; // only when it changed: KV writes are the costly part at 10,000 tenants
    await ctx.deps.kv.put(
      snapshotKey(t.id),
      JSON.stringify({ limit: null, spent: subAccount.totalSpent, at: ctx.now }),
    );
  }
  return copy ? copy.spent - subAccount.totalSpent : 0;
}
