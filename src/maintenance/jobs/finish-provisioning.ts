import { audit } from "../../admin/deps";
import { provision } from "../../admin/provisioning";
import { ApiError } from "../../errors";
import { listAudit } from "../../storage/audit";
import { TenantScans } from "../../storage/tenant-scans";
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
    const scans = new TenantScans(ctx.deps.db);
    const counts = { finished: 0, incomplete: 0, abandoned: 0, failed: 0 };
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
        const tenant = await provision(ctx.deps, next.id);
        if (tenant.status !== "provisioning") counts.finished++;
      } catch (err) {
        if (err instanceof ApiError && err.code === "provisioning_incomplete") {
          counts.incomplete++;
          // Reported in the audit log once while it stays stuck (the job retries it every run).
          const [latest] = await listAudit(ctx.deps.db, { tenantId: next.id, limit: 1 });
          if (latest?.action !== "maintenance.provisioning.incomplete") {
            const step = (err.details as { step?: string } | undefined)?.step ?? null;
            await ctx.deps.repo.batch([audit(ctx.deps, "maintenance.provisioning.incomplete", next.id, { step })]);
          }
        } else if (err instanceof ApiError && err.code === "upstream_error")
          counts.abandoned++; // Zavu refused: no tenant kept
        else if (err instanceof ApiError && err.code === "not_found")
          continue; // finished or removed meanwhile
        else {
          counts.failed++;
          await ctx.deps.repo.batch([
            audit(ctx.deps, "maintenance.provisioning.failed", next.id, {
              error: err instanceof ApiError ? err.code : err instanceof Error ? err.name : "unknown",
            }),
          ]);
        }
      }
    }
    return { cursor: after, counts };
  },
};
