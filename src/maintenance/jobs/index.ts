import type { MaintenanceJob } from "../job";
import { deliverWebhooks } from "./deliver-webhooks";
import { finishProvisioning } from "./finish-provisioning";
import { publishOutbox } from "./publish-outbox";
import { reconcileOrphans } from "./reconcile-orphans";
import { reconcileUsage } from "./reconcile-usage";
import { refreshBalances } from "./refresh-balances";
import { resealKeys } from "./reseal-keys";
import { rotateKeys } from "./rotate-keys";

/**
 * Every maintenance job, in the order a run gives them their share of its budget. A new job is a
 * module implementing MaintenanceJob, added here.
 */
export const JOBS: readonly MaintenanceJob[] = [
  publishOutbox,
  deliverWebhooks,
  finishProvisioning,
  resealKeys,
  reconcileOrphans,
  rotateKeys,
  refreshBalances,
  reconcileUsage,
];

export function findJob(name: string): MaintenanceJob | undefined {
  return JOBS.find((job) => job.name === name);
}
