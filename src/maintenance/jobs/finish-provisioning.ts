import { ApiError } from "../../errors";
import { errorName } from "../../lib/error-name";
import { MaintenanceRepo } from "../../storage/maintenance-repo";
import { TenantScans } from "../../storage/tenants";
import { audit } from "../../tenants/context";
import { provisionWithAlerts } from "../../tenants/onboarding";
import type { MaintenanceJob } from "../job";

/**
 * Tenants left `provisioning` by a request that gave up (a timeout, a lost reply, a crash) are
 * finished with the same resumable repair as POST /tenants/{id}/repair. One that cannot finish yet
 * is reported (audit log, once while it stays stuck; GET /admin/v1/maintenance lists it) and tried
 * again next pass.
 */
export const finishProvisioning: MaintenanceJob = {
  name: "finish-provisioning",
  description: "Finishes tenants still provisioning after 5 minutes (the repair), or reports why not",
  // Finding the next one, and the repair: a few key calls, plus a page of sub-accounts per 100 when it looks one up.
  unitCost: 16,

  async run(ctx, cursor) {
    const scans = new TenantScans(ctx.deps.db, ctx.deps.counters);
    const reports = new MaintenanceRepo(ctx.deps.db, ctx.deps.counters);
    const counts = { finished: 0, unpublished: 0, incomplete: 0, abandoned: 0, busy: 0, failed: 0 };
    let after = cursor ?? "";
    for (let done = 0; done < ctx.maxItems; done++) {
      if (!ctx.budget.allows(this.unitCost)) return { cursor: after, counts };
      const [next] = await scans.provisioning({
        after,
        createdBefore: ctx.now - ctx.settings.provisioningGraceMs,
        limit: 1, // each repair costs far more than this read: one at a time keeps the budget exact
      });
      if (!next) return { cursor: null, counts };
      after = next.id;
      try {
        const tenant = await provisionWithAlerts(ctx.deps, next.id);
        if (tenant.status !== "provisioning") counts.finished++;
      } catch (err) {
        const code = err instanceof ApiError ? err.code : null;
        if (code === "provisioning_incomplete") {
          counts.incomplete++;
          // Reported in the audit log once (the job retries it every run; the repair logs each attempt).
          if (!(await reports.audited(next.id, "maintenance.provisioning.incomplete"))) {
            const step = ((err as ApiError).details as { step?: string } | undefined)?.step ?? null;
            await ctx.deps.repo.batch([audit(ctx.deps, "maintenance.provisioning.incomplete", next.id, { step })]);
          }
        } else if (code === "upstream_error")
          counts.abandoned++; // Zavu refused: no tenant kept
        else if (code === "operation_in_progress")
          counts.busy++; // a request is repairing it right now
        else if (code === "propagation_pending")
          counts.unpublished++; // active; publish-outbox tells the isolates
        else if (code !== "not_found") {
          counts.failed++;
          await ctx.deps.repo.batch([
            audit(ctx.deps, "maintenance.provisioning.failed", next.id, {
              error: code ?? errorName(err),
            }),
          ]);
        }
      }
    }
    return { cursor: after, counts };
  },
};
