import type { Counters } from "../lib/counters";
import { CountedDb } from "./db";

export type Counts = Record<string, number>;

/** Where a maintenance job stands (table maintenance_jobs). */
export interface JobState {
  job: string;
  cursor: string | null;
  memo: Record<string, unknown>;
  passStartedAt: number | null;
  passCounts: Counts;
  passes: number;
  lastPassEndedAt: number | null;
  lastPassCounts: Counts | null;
  lastRunAt: number | null;
  lastRunCounts: Counts | null;
  lastError: string | null;
  leaseUntil: number | null;
}

interface JobRow {
  job: string;
  cursor: string | null;
  memo: string | null;
  pass_started_at: number | null;
  pass_counts: string | null;
  passes: number;
  last_pass_ended_at: number | null;
  last_pass_counts: string | null;
  last_run_at: number | null;
  last_run_counts: string | null;
  last_error: string | null;
  lease_until: number | null;
}

const parse = <T>(text: string | null, fallback: T): T => (text ? (JSON.parse(text) as T) : fallback);

function toState(row: JobRow): JobState {
  return {
    job: row.job,
    cursor: row.cursor,
    memo: parse(row.memo, {}),
    passStartedAt: row.pass_started_at,
    passCounts: parse(row.pass_counts, {}),
    passes: row.passes,
    lastPassEndedAt: row.last_pass_ended_at,
    lastPassCounts: parse(row.last_pass_counts, null),
    lastRunAt: row.last_run_at,
    lastRunCounts: parse(row.last_run_counts, null),
    lastError: row.last_error,
    leaseUntil: row.lease_until,
  };
}

export interface OrphanRecord {
  subAccountId: string;
  externalId: string;
  name: string | null;
  firstSeenAt: number;
  lastSeenAt: number;
  deactivatedAt: number | null;
}

/** Job state, the per-job lease that keeps two runs (cron and an admin call) apart, and found orphans. */
export class MaintenanceRepo {
  private readonly db: CountedDb;

  constructor(d1: D1Database, counters: Counters) {
    this.db = new CountedDb(d1, counters);
  }

  /**
   * Takes the job until `until` unless another run holds it; returns its state, or null when
   * busy. A run that dies keeps the lease only until it expires.
   */
  async acquire(job: string, owner: string, now: number, until: number): Promise<JobState | null> {
    const [, taken] = await this.db.batch<JobRow>([
      this.db.prepare("INSERT OR IGNORE INTO maintenance_jobs (job) VALUES (?)").bind(job),
      this.db
        .prepare(
          `UPDATE maintenance_jobs SET lease_until = ?, lease_owner = ?
           WHERE job = ? AND (lease_until IS NULL OR lease_until <= ?) RETURNING *`,
        )
        .bind(until, owner, job, now),
    ]);
    const row = taken?.results[0];
    return row ? toState(row) : null;
  }

  /** Stores the run's outcome and gives the lease back (only if this run still holds it). */
  async finish(job: string, owner: string, state: Omit<JobState, "job" | "leaseUntil">): Promise<void> {
    await this.db.run(
      this.db
        .prepare(
          `UPDATE maintenance_jobs SET cursor = ?, memo = ?, pass_started_at = ?, pass_counts = ?, passes = ?,
           last_pass_ended_at = ?, last_pass_counts = ?, last_run_at = ?, last_run_counts = ?, last_error = ?,
           lease_until = NULL, lease_owner = NULL
         WHERE job = ? AND lease_owner = ?`,
        )
        .bind(
          state.cursor,
          JSON.stringify(state.memo),
          state.passStartedAt,
          JSON.stringify(state.passCounts),
          state.passes,
          state.lastPassEndedAt,
          state.lastPassCounts ? JSON.stringify(state.lastPassCounts) : null,
          state.lastRunAt,
          state.lastRunCounts ? JSON.stringify(state.lastRunCounts) : null,
          state.lastError,
          job,
          owner,
        ),
    );
  }

  /** Gives the lease back without recording a run (the job was not due). */
  async release(job: string, owner: string): Promise<void> {
    await this.db.run(
      this.db
        .prepare("UPDATE maintenance_jobs SET lease_until = NULL, lease_owner = NULL WHERE job = ? AND lease_owner = ?")
        .bind(job, owner),
    );
  }

  /** Whether the audit log already records this action for this tenant (for reports made once). */
  async audited(tenantId: string, action: string): Promise<boolean> {
    const row = await this.db.first(
      this.db
        .prepare("SELECT 1 AS yes FROM audit_log WHERE tenant_id = ? AND action = ? LIMIT 1")
        .bind(tenantId, action),
    );
    return row !== null;
  }

  async states(): Promise<JobState[]> {
    const { results } = await this.db.all<JobRow>(this.db.prepare("SELECT * FROM maintenance_jobs ORDER BY job"));
    return results.map(toState);
  }

  async orphans(ids: string[]): Promise<Map<string, OrphanRecord>> {
    if (ids.length === 0) return new Map();
    const { results } = await this.db.all<OrphanRow>(
      this.db
        .prepare("SELECT * FROM orphan_sub_accounts WHERE sub_account_id IN (SELECT value FROM json_each(?))")
        .bind(JSON.stringify(ids)),
    );
    return new Map(results.map((r) => [r.sub_account_id, toOrphan(r)]));
  }

  /** Records a sighting: inserted the first time, `last_seen_at` moved after. */
  seenStatement(orphan: { subAccountId: string; externalId: string; name: string | null }, now: number) {
    return this.db
      .prepare(
        `INSERT INTO orphan_sub_accounts (sub_account_id, external_id, name, first_seen_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (sub_account_id) DO UPDATE SET last_seen_at = ?4`,
      )
      .bind(orphan.subAccountId, orphan.externalId, orphan.name, now);
  }

  deactivatedStatement(subAccountId: string, now: number) {
    return this.db
      .prepare("UPDATE orphan_sub_accounts SET deactivated_at = ? WHERE sub_account_id = ?")
      .bind(now, subAccountId);
  }

  async batch(statements: D1PreparedStatement[]): Promise<void> {
    if (statements.length === 0) return;
    await this.db.batch(statements);
  }

  async listOrphans(limit: number): Promise<OrphanRecord[]> {
    const { results } = await this.db.all<OrphanRow>(
      this.db
        .prepare("SELECT * FROM orphan_sub_accounts ORDER BY first_seen_at DESC, sub_account_id LIMIT ?")
        .bind(limit),
    );
    return results.map(toOrphan);
  }
}

interface OrphanRow {
  sub_account_id: string;
  external_id: string;
  name: string | null;
  first_seen_at: number;
  last_seen_at: number;
  deactivated_at: number | null;
}

function toOrphan(r: OrphanRow): OrphanRecord {
  return {
    subAccountId: r.sub_account_id,
    externalId: r.external_id,
    name: r.name,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    deactivatedAt: r.deactivated_at,
  };
}
