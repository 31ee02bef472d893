import { UsageRepo } from "../../storage/usage-repo";
import { shareDrift } from "../../usage/reconcile";
import { USAGE_SHARDS, utcDay } from "../../usage/rows";
import { flushShards } from "../../usage/shards";
import type { JobContext, MaintenanceJob } from "../job";

const PAGE = 25;
const PASS_INTERVAL_MS = 15 * 60_000;

/**
 * Usage records hold estimated costs where the gateway did not read a send's answer (or Zavu did not
 * give a cost yet). For every tenant with records from yesterday or today, this compares what they
 * hold since the tenant's baseline with Zavu's totalSpent (main key), adds the difference to the
 * records that hold estimates (settling them; see shareDrift), and records the drift. A tenant from
 * before usage records gets its baseline instead (its first pass).
 */
export const reconcileUsage: MaintenanceJob = {
  name: "reconcile-usage",
  description: "Reconciles usage records with Zavu's totalSpent: corrects estimated costs, records the drift",
  // Zavu's total, the records' total and estimates (one batch), the correction (one batch), the page's share.
  unitCost: 4,

  due: (state, ctx) => state.lastPassEndedAt === null || ctx.now - state.lastPassEndedAt >= PASS_INTERVAL_MS,

  async run(ctx, cursor) {
    const repo = new UsageRepo(ctx.deps.db, ctx.deps.counters);
    const counts = { tenants: 0, drifted: 0, driftCents: 0, settledEstimates: 0, baselined: 0, failed: 0 };
    if (cursor === null) {
      // Every count a shard holds goes to D1 first: the pass compares Zavu with all of it.
      if (!ctx.budget.allows(USAGE_SHARDS + this.unitCost)) return { cursor: null, counts };
      await flushShards(ctx.env, ctx.deps.counters);
    }
    const since = utcDay(ctx.now - 86_400_000).date;
    let after = cursor ?? "";
    for (let done = 0; done < ctx.maxItems * PAGE; ) {
      if (!ctx.budget.allows(this.unitCost + 1)) return { cursor: after, counts };
      const page = await repo.activeTenants(since, after, PAGE);
      for (const t of page) {
        if (!ctx.budget.allows(this.unitCost)) return { cursor: after, counts };
        after = t.id;
        done++;
        try {
          await reconcileOne(ctx, repo, t, counts);
        } catch {
          counts.failed++;
        }
      }
      if (page.length < PAGE) return { cursor: null, counts };
    }
    return { cursor: after, counts };
  },
};

async function reconcileOne(
  ctx: JobContext,
  repo: UsageRepo,
  t: { id: string; subAccountId: string; baselineCents: number | null },
  counts: Record<string, number>,
): Promise<void> {
  const { subAccount } = await ctx.deps.zavu.getSubAccount(t.subAccountId);
  const records = await repo.forReconciliation(t.id);
  counts.tenants!++;
  if (t.baselineCents === null) {
    // Its first pass: Zavu's total so far, minus what the records hold, is where they started.
    const shares = records.estimated.map((r) => ({
      date: r.date,
      channel: r.channel,
      cents: 0,
      estimated: r.estimated_cents,
    }));
    const counted = records.countedCents;
    await repo.reconcile(
      t.id,
      { zavuCents: counted, countedCents: counted, shares },
      subAccount.totalSpent - counted,
      ctx.now,
    );
    counts.baselined!++;
    return;
  }
  const zavuCents = subAccount.totalSpent - t.baselineCents;
  const drift = zavuCents - records.countedCents;
  if (drift === 0 && records.estimated.length === 0) return;
  const shares = shareDrift(drift, records.estimated, records.latest);
  await repo.reconcile(t.id, { zavuCents, countedCents: records.countedCents, shares }, null, ctx.now);
  if (drift !== 0) counts.drifted!++;
  counts.driftCents! += Math.abs(drift);
  counts.settledEstimates! += records.estimated.reduce((n, r) => n + r.estimated_cents, 0);
}
