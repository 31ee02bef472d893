import type { MaintenanceSettings } from "../config";
import type { Env } from "../env";
import type { Keyring } from "../storage/key-vault";
import type { Counts, JobState } from "../storage/maintenance-repo";
import type { TenantContext } from "../tenants/context";
import type { Budget } from "./budget";

/** What a job works with during one run. */
export interface JobContext {
  env: Env;
  /** The tenant service's context, acting as "system:maintenance" (the audit log's actor). */
  deps: TenantContext;
  keyring: Keyring;
  settings: MaintenanceSettings;
  /** This job's share of the run: stop before a unit of work it cannot afford. */
  budget: Budget;
  /** Most units of work this run may do (an admin call's batch size); Infinity from the cron. */
  maxItems: number;
  now: number;
  /** The job's own notes from earlier runs (e.g. the KEK id of the pass in progress). */
  memo: Record<string, unknown>;
}

export interface JobOutcome {
  /** Where the next run resumes this pass; null when the pass is complete. */
  cursor: string | null;
  counts: Counts;
  memo?: Record<string, unknown>;
}

/**
 * One maintenance job: a small module, registered in jobs/index.ts. A pass walks everything the
 * job looks after, across as many runs as it takes; each run does what its budget allows and
 * returns where to resume.
 */
export interface MaintenanceJob {
  name: string;
  description: string;
  /** The most calls one unit of work (one tenant, one page) can make: a run stops before it cannot afford one. */
  unitCost: number;
  /** Off by policy (shown as disabled, never run). Default: on. */
  enabled?(settings: MaintenanceSettings): boolean;
  /** Whether a new pass should start now; a pass in progress always continues. Default: every run. */
  due?(state: JobState, ctx: JobContext): boolean | Promise<boolean>;
  run(ctx: JobContext, cursor: string | null): Promise<JobOutcome>;
}

/** Adds counts into a total (absent keys count as 0). */
export function addCounts(total: Counts, more: Counts): Counts {
  const sum = { ...total };
  for (const [k, v] of Object.entries(more)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}
