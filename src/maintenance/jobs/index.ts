import type { MaintenanceJob } from "../job";
import { finishProvisioning } from "./finish-provisioning";
import { publishOutbox } from "./publish-outbox";
import { reconcileOrphans } from "./reconcile-orphans";
import { resealKeys } from "./reseal-keys";
import { rotateKeys } from "./rotate-keys";

/**
 * Every maintenance job, in the order a run gives them their share of its budget. A new job is a
 * module implementing MaintenanceJob, added here. (Refreshing cached balances and recording drift
 * against Zavu belongs here too; it comes with the spend ledger.)
 */
export const JOBS: readonly MaintenanceJob[] = [
  publishOutbox,
  finishProvisioning,
  resealKeys,
  reconcileOrphans,
  rotateKeys,
];

export function findJob(name: string): MaintenanceJob | undefined {
  return JOBS.find((job) => job.name === name);
}
