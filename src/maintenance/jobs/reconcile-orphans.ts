import { MaintenanceRepo } from "../../storage/maintenance-repo";
import { TenantScans } from "../../storage/tenants";
import { audit } from "../../tenants/context";
import { UpstreamError } from "../../upstream/zavu-client";
import type { MaintenanceJob } from "../job";

const PAGE = 50;
const PASS_INTERVAL_MS = 60 * 60_000;
/** The shape of the gateway's tenant ids, which provisioning uses as the sub-account's externalId. */
const TENANT_ID = /^tnt_[0-9a-z]{26}$/;

/** Resume point: an upstream page (its cursor; "" = the first) and how many of its items are done. */
interface Position {
  page: string;
  skip: number;
}

const decode = (cursor: string | null): Position => (cursor ? (JSON.parse(cursor) as Position) : { page: "", skip: 0 });

/**
 * Walks every sub-account upstream. One whose externalId is a tenant id the gateway does not hold,
 * and that no tenant holds by its sub-account id either (an import), is an orphan: a create that
 * completed after the gateway gave up on it. Each is reported in the audit log when first seen;
 * with ORPHAN_POLICY=deactivate it is also deactivated upstream (its keys revoked, its balance
 * returned to the team).
 */
export const reconcileOrphans: MaintenanceJob = {
  name: "reconcile-orphans",
  description:
    "Finds sub-accounts upstream whose externalId names no tenant; reports them, or deactivates them by policy",
  // One page: the list call, the lookup, the writes, and a deactivation per orphan under that policy.
  unitCost: 6,

  due: (state, ctx) => state.lastPassEndedAt === null || ctx.now - state.lastPassEndedAt >= PASS_INTERVAL_MS,

  async run(ctx, cursor) {
    const repo = new MaintenanceRepo(ctx.deps.db, ctx.deps.counters);
    const scans = new TenantScans(ctx.deps.db, ctx.deps.counters);
    const deactivate = ctx.settings.orphanPolicy === "deactivate";
    const counts = { scanned: 0, orphans: 0, reported: 0, deactivated: 0, failed: 0 };
    let at = decode(cursor);
    let pages = 0;

    while (pages < ctx.maxItems && ctx.budget.allows(this.unitCost)) {
      pages++;
      const { items, nextCursor } = await ctx.deps.zavu.listSubAccounts(at.page || undefined, PAGE);
      const todo = items.slice(at.skip);
      const candidates = todo.filter((s) => s.externalId && TENANT_ID.test(s.externalId));
      const held = candidates.length
        ? await scans.held(
            candidates.map((s) => s.externalId!),
            candidates.map((s) => s.id),
          )
        : { tenantIds: new Set<string>(), subAccountIds: new Set<string>() };
      const orphans = candidates.filter((s) => !held.tenantIds.has(s.externalId!) && !held.subAccountIds.has(s.id));
      const known = await repo.orphans(orphans.map((s) => s.id));

      let handled = at.skip;
      const writes: D1PreparedStatement[] = [];
      for (const sub of todo) {
        const orphan = orphans.includes(sub) ? sub : undefined;
        if (orphan) {
          const seen = known.get(orphan.id);
          if (deactivate && !seen?.deactivatedAt && !ctx.budget.allows(2)) break; // resume at this one
          counts.orphans++;
          writes.push(
            repo.seenStatement({ subAccountId: orphan.id, externalId: orphan.externalId!, name: orphan.name }, ctx.now),
          );
          const detail = { subAccountId: orphan.id, externalId: orphan.externalId, status: orphan.status };
          if (!seen) {
            counts.reported++;
            writes.push(audit(ctx.deps, "maintenance.orphan.found", null, detail));
          }
          if (deactivate && !seen?.deactivatedAt) {
            try {
              const { keysRevoked } = await ctx.deps.zavu.deactivateSubAccount(orphan.id);
              counts.deactivated++;
              writes.push(repo.deactivatedStatement(orphan.id, ctx.now));
              writes.push(audit(ctx.deps, "maintenance.orphan.deactivated", null, { ...detail, keysRevoked }));
            } catch (err) {
              if (!(err instanceof UpstreamError)) throw err;
              counts.failed++;
              writes.push(
                audit(ctx.deps, "maintenance.orphan.deactivate_failed", null, { ...detail, upstreamCode: err.code }),
              );
            }
          }
        }
        counts.scanned++;
        handled++;
      }
      // seenStatement inserts the row the deactivation then updates: keep the batch in this order.
      await repo.batch(writes);
      if (handled < items.length) {
        at = { page: at.page, skip: handled };
        break;
      }
      if (!nextCursor) return { cursor: null, counts };
      at = { page: nextCursor, skip: 0 };
    }
    return { cursor: JSON.stringify(at), counts };
  },
};
