import { config } from "../config";
import type { Env } from "../env";
import { errorName } from "../lib/error-name";
import { log } from "../lib/log";
import type { IsolateState } from "../state";
import { type Counts, type JobState, MaintenanceRepo } from "../storage/maintenance-repo";
import { tenantContext } from "../tenants/context";
import { Budget } from "./budget";
import { addCounts, type JobContext, type MaintenanceJob } from "./job";
import { JOBS } from "./jobs";

export type JobOutcomeKind = "ran" | "disabled" | "not_due" | "busy" | "no_budget" | "failed";

export interface JobReport {
  job: string;
  outcome: JobOutcomeKind;
  counts: Counts;
  /** The job finished a whole pass in this run (or had nothing to do). */
  passComplete: boolean;
  /** D1, KV and Zavu calls this job made in this run. */
  subrequests: number;
  error?: string;
}

export interface RunReport {
  runId: string;
  trigger: "cron" | "admin";
  jobs: JobReport[];
  subrequests: number;
}

export interface RunOptions {
  trigger: "cron" | "admin";
  /** Only these jobs (by name); default: all. */
  only?: string[];
  /** Start a new pass even if the job is not due. */
  force?: boolean;
  /** Most units of work per job (an admin call's batch); default: as many as the budget allows. */
  maxItems?: number;
  /** The audit log's actor; default "system:maintenance". */
  actor?: string;
  requestId?: string;
  now?: number;
}

/** Long enough for any run (the wall-time cap plus slack); a run that dies frees the job after it. */
const LEASE_MS = 2 * 60_000;

/**
 * One maintenance run: each job (in JOBS order) gets an equal share of what is left of the run's
 * budget, takes its lease (so a cron run and an admin call never work on one job at once), resumes
 * its pass where the last run stopped, and records where it stopped this time.
 */
export async function runMaintenance(env: Env, state: IsolateState, opts: RunOptions): Promise<RunReport> {
  const clock = () => state.clock.now();
  const startedAt = clock();
  /** The run's time for what is due and how old things are (the cron's scheduled time). */
  const now = opts.now ?? startedAt;
  const runId = opts.requestId ?? crypto.randomUUID();
  const { keyring, maintenance: settings } = config(env);
  const repo = new MaintenanceRepo(env.DB, state.counters);
  const budget = new Budget(state.counters, settings.maxSubrequests, startedAt + settings.maxRunMs, clock);
  const jobs = JOBS.filter((job) => !opts.only || opts.only.includes(job.name));
  const reports: JobReport[] = [];

  const enabled = jobs.filter((job) => !job.enabled || job.enabled(settings));
  for (const job of jobs) {
    if (!enabled.includes(job)) {
      reports.push({ job: job.name, outcome: "disabled", counts: {}, passComplete: false, subrequests: 0 });
      continue;
    }
    // An equal share of what is left, but at least one unit of work's worth when the run can afford it.
    const equal = Math.floor(budget.remaining / (enabled.length - enabled.indexOf(job)));
    const share = budget.slice(Math.max(equal, job.unitCost + 2));
    const ctx: JobContext = {
      env,
      deps: tenantContext(env, state, runId, opts.actor ?? "system:maintenance"),
      keyring,
      settings,
      budget: share,
      maxItems: opts.maxItems ?? Number.POSITIVE_INFINITY,
      now,
      memo: {},
    };
    reports.push(
      await runJob(job, ctx).catch((err) => ({
        job: job.name,
        outcome: "failed" as const,
        counts: {},
        passComplete: false,
        subrequests: share.spent,
        error: errorName(err),
      })),
    );
  }

  async function runJob(job: MaintenanceJob, ctx: JobContext): Promise<JobReport> {
    const share = ctx.budget;
    const report = (outcome: JobOutcomeKind, extra: Partial<JobReport> = {}): JobReport => ({
      job: job.name,
      outcome,
      counts: {},
      passComplete: false,
      subrequests: share.spent,
      ...extra,
    });
    if (!ctx.budget.allows(job.unitCost + 2)) return report("no_budget"); // + the lease and the state write
    const leaseFrom = clock();
    const state = await repo.acquire(job.name, runId, leaseFrom, leaseFrom + LEASE_MS);
    if (!state) return report("busy");
    ctx.memo = state.memo;
    ctx.budget = ctx.budget.slice(ctx.budget.remaining - 1); // keep one call for recording the outcome
    if (state.cursor === null && !opts.force && job.due && !(await job.due(state, ctx))) {
      await repo.release(job.name, runId);
      return report("not_due");
    }
    try {
      const outcome = await job.run(ctx, state.cursor);
      await repo.finish(job.name, runId, nextState(state, outcome.cursor, outcome.counts, outcome.memo, now));
      return report("ran", { counts: outcome.counts, passComplete: outcome.cursor === null });
    } catch (err) {
      const error = errorName(err);
      await repo.finish(job.name, runId, { ...state, lastRunAt: now, lastRunCounts: null, lastError: error });
      return report("failed", { error });
    }
  }

  const result: RunReport = { runId, trigger: opts.trigger, jobs: reports, subrequests: budget.spent };
  log({
    kind: "maintenance",
    runId,
    trigger: opts.trigger,
    durationMs: clock() - startedAt,
    subrequests: budget.spent,
    jobs: reports.map((r) => ({
      job: r.job,
      outcome: r.outcome,
      counts: r.counts,
      passComplete: r.passComplete,
      ...(r.error ? { error: r.error } : {}),
    })),
  });
  return result;
}

/** The state after a run: counts added to the pass, and the pass closed when the cursor is null. */
export function nextState(
  state: JobState,
  cursor: string | null,
  counts: Counts,
  memo: Record<string, unknown> | undefined,
  now: number,
): Omit<JobState, "job" | "leaseUntil"> {
  const starting = state.cursor === null;
  const passCounts = addCounts(starting ? {} : state.passCounts, counts);
  const complete = cursor === null;
  return {
    cursor,
    memo: memo ?? state.memo,
    passStartedAt: complete ? null : starting ? now : state.passStartedAt,
    passCounts: complete ? {} : passCounts,
    passes: state.passes + (complete ? 1 : 0),
    lastPassEndedAt: complete ? now : state.lastPassEndedAt,
    lastPassCounts: complete ? passCounts : state.lastPassCounts,
    lastRunAt: now,
    lastRunCounts: counts,
    lastError: null,
  };
}
