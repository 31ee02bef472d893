import { ApiError } from "../../errors";
import { errorName } from "../../lib/error-name";
import { TenantScans } from "../../storage/tenants";
import { audit } from "../../tenants/context";
import { rotateKey } from "../../tenants/lifecycle";
import type { MaintenanceJob } from "../job";

const PAGE = 50;
const PASS_INTERVAL_MS = 6 * 60 * 60_000;
const DAY_MS = 24 * 60 * 60_000;

/**
 * With KEY_ROTATION_DAYS set, gives every live tenant whose Zavu key is older than that a new
 * one, with the admin API's zero-downtime rotation (new key stored first, old one revoked after).
 * A key's age is read from the audit log, which records every key change in the same write.
 */
export const rotateKeys: MaintenanceJob = {
  name: "rotate-keys",
  description: "Rotates sub-account keys older than KEY_ROTATION_DAYS (off when 0)",
  unitCost: 6, // create, list, revoke upstream; the tenant read and its write

  enabled: (settings) => settings.keyRotationDays > 0,
  due: (state, ctx) => state.lastPassEndedAt === null || ctx.now - state.lastPassEndedAt >= PASS_INTERVAL_MS,

  async run(ctx, cursor) {
    const scans = new TenantScans(ctx.deps.db, ctx.deps.counters);
    const olderThan = ctx.now - ctx.settings.keyRotationDays * DAY_MS;
    const counts = { checked: 0, rotated: 0, busy: 0, failed: 0 };
    let after = cursor ?? "";
    let rotations = 0;
    for (;;) {
      if (!ctx.budget.allows(1)) return { cursor: after, counts };
      const page = await scans.keyAges({ after, limit: PAGE });
      for (const { id, keyStoredAt } of page) {
        if (keyStoredAt < olderThan) {
          if (rotations >= ctx.maxItems || !ctx.budget.allows(this.unitCost)) return { cursor: after, counts };
          rotations++;
          try {
            await rotateKey(ctx.deps, id);
            counts.rotated++;
          } catch (err) {
            if (err instanceof ApiError && err.code === "operation_in_progress") {
              counts.busy++; // being rotated by someone else right now: the next pass looks again
              continue;
            }
            counts.failed++;
            await ctx.deps.repo.batch([
              audit(ctx.deps, "maintenance.rotate.failed", id, {
                error: errorName(err),
              }),
            ]);
          }
        }
        counts.checked++;
        after = id;
      }
      if (page.length < PAGE) return { cursor: null, counts };
    }
  },
};
