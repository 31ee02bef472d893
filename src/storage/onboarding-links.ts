import type { Counters } from "../lib/counters";
import { CountedDb } from "./db";

/** What the API shows. "expired" is a pending link past its expiry; it is never stored. */
export type LinkStatus = "pending" | "completed" | "expired" | "revoked";
/** create: onboards a new customer; identity: lets an existing tenant replace its identity configuration. */
export type LinkPurpose = "create" | "identity";

export interface LinkRecord {
  id: string;
  purpose: LinkPurpose;
  status: LinkStatus;
  tenantId: string | null;
  name: string | null;
  externalId: string | null;
  creditLimit: number | null;
  metadata: Record<string, unknown> | null;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  completedAt: number | null;
  revokedAt: number | null;
  claimedUntil: number;
}

export interface NewLink {
  id: string;
  secretHash: string;
  purpose: LinkPurpose;
  tenantId: string | null;
  name: string | null;
  externalId: string | null;
  creditLimit: number | null;
  metadata: Record<string, unknown> | null;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
}

interface LinkRow {
  id: string;
  purpose: LinkPurpose;
  status: "pending" | "completed" | "revoked";
  tenant_id: string | null;
  name: string | null;
  external_id: string | null;
  credit_limit: number | null;
  metadata: string | null;
  created_by: string;
  created_at: number;
  expires_at: number;
  completed_at: number | null;
  revoked_at: number | null;
  claimed_until: number;
}

function toRecord(row: LinkRow, now: number): LinkRecord {
  return {
    id: row.id,
    purpose: row.purpose,
    status: row.status === "pending" && row.expires_at <= now ? "expired" : row.status,
    tenantId: row.tenant_id,
    name: row.name,
    externalId: row.external_id,
    creditLimit: row.credit_limit,
    metadata: row.metadata ? JSON.parse(row.metadata) : null,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    completedAt: row.completed_at,
    revokedAt: row.revoked_at,
    claimedUntil: row.claimed_until,
  };
}

const COLUMNS = `id, purpose, status, tenant_id, name, external_id, credit_limit, metadata, created_by, created_at,
  expires_at, completed_at, revoked_at, claimed_until`;

/** Where a link is in its life; the SQL filter for each status the API can ask for. */
const STATUS_FILTER: Record<LinkStatus, string> = {
  pending: "status = 'pending' AND expires_at > ?1",
  expired: "status = 'pending' AND expires_at <= ?1",
  completed: "status = 'completed'",
  revoked: "status = 'revoked'",
};

/**
 * Onboarding links in D1. Every state change is one conditional statement, so two isolates
 * (or two tabs) racing on one link cannot both win: D1 runs statements one at a time.
 */
export class LinkRepo {
  private readonly db: CountedDb;

  constructor(d1: D1Database, counters: Counters) {
    this.db = new CountedDb(d1, counters);
  }

  insert(link: NewLink): D1PreparedStatement {
    return this.db
      .prepare(
        `INSERT INTO onboarding_links (id, secret_hash, status, purpose, tenant_id, name, external_id, credit_limit, metadata, created_by, created_at, expires_at)
         VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        link.id,
        link.secretHash,
        link.purpose,
        link.tenantId,
        link.name,
        link.externalId,
        link.creditLimit,
        link.metadata ? JSON.stringify(link.metadata) : null,
        link.createdBy,
        link.createdAt,
        link.expiresAt,
      );
  }

  async bySecretHash(secretHash: string, now = Date.now()): Promise<LinkRecord | null> {
    const row = await this.db.first<LinkRow>(
      this.db.prepare(`SELECT ${COLUMNS} FROM onboarding_links WHERE secret_hash = ?`).bind(secretHash),
    );
    return row ? toRecord(row, now) : null;
  }

  async get(id: string, now = Date.now()): Promise<LinkRecord | null> {
    const row = await this.db.first<LinkRow>(
      this.db.prepare(`SELECT ${COLUMNS} FROM onboarding_links WHERE id = ?`).bind(id),
    );
    return row ? toRecord(row, now) : null;
  }

  /** Newest first, keyset-paged on id (O(page) through the (status, id) index). */
  async list(opts: { status?: LinkStatus; limit: number; before?: string }, now = Date.now()): Promise<LinkRecord[]> {
    const where = ["id < ?2"];
    if (opts.status) where.push(STATUS_FILTER[opts.status]);
    const { results } = await this.db.all<LinkRow>(
      this.db
        .prepare(`SELECT ${COLUMNS} FROM onboarding_links WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?3`)
        .bind(now, opts.before ?? "\u{10ffff}", opts.limit),
    );
    return results.map((r) => toRecord(r, now));
  }

  async countByStatus(now = Date.now()): Promise<Record<LinkStatus, number>> {
    const { results } = await this.db.all<{ s: LinkStatus; n: number }>(
      this.db
        .prepare(
          `SELECT CASE WHEN status = 'pending' AND expires_at <= ?1 THEN 'expired' ELSE status END AS s, COUNT(*) AS n
         FROM onboarding_links GROUP BY s`,
        )
        .bind(now),
    );
    const counts: Record<LinkStatus, number> = { pending: 0, completed: 0, expired: 0, revoked: 0 };
    for (const r of results) counts[r.s] = r.n;
    return counts;
  }

  /**
   * Pending (even if expired) -> revoked. Changes nothing for a completed or revoked link, nor
   * while an activation holds it (a revocation never lands half way through one).
   */
  revokeStatement(id: string, now = Date.now()): D1PreparedStatement {
    return this.db
      .prepare(
        "UPDATE onboarding_links SET status = 'revoked', revoked_at = ?1 WHERE id = ?2 AND status = 'pending' AND claimed_until <= ?1",
      )
      .bind(now, id);
  }

  /**
   * Marks the link used, inside the batch that makes its change. The statement fails (and
   * with it the whole batch) unless the link is still pending and unexpired: the CASE turns
   * the status into a value the table's CHECK refuses. That makes single use hold in the
   * database, whatever raced it.
   */
  completeStatement(id: string, tenantId: string, now = Date.now()): D1PreparedStatement {
    return this.db
      .prepare(
        `UPDATE onboarding_links
         SET status = CASE WHEN status = 'pending' AND expires_at > ?3 THEN 'completed' ELSE 'no longer pending' END,
             tenant_id = ?2, completed_at = ?3, claimed_until = 0
         WHERE id = ?1`,
      )
      .bind(id, tenantId, now);
  }

  /**
   * Takes the link for one activation at a time. A lease, not a lock: a crashed activation
   * frees the link when it runs out.
   */
  async claim(id: string, leaseMs: number, now = Date.now()): Promise<boolean> {
    const result = await this.db.run(
      this.db
        .prepare(
          "UPDATE onboarding_links SET claimed_until = ? WHERE id = ? AND status = 'pending' AND expires_at > ? AND claimed_until <= ?",
        )
        .bind(now + leaseMs, id, now, now),
    );
    return result.meta.changes === 1;
  }

  async release(id: string): Promise<void> {
    await this.db.run(this.db.prepare("UPDATE onboarding_links SET claimed_until = 0 WHERE id = ?").bind(id));
  }

  /** A create link whose tenant was abandoned (Zavu refused it, no tenant kept) becomes usable again. */
  async reopen(id: string, tenantId: string): Promise<void> {
    await this.db.run(
      this.db
        .prepare(
          `UPDATE onboarding_links SET status = 'pending', tenant_id = NULL, completed_at = NULL, claimed_until = 0
         WHERE id = ?1 AND purpose = 'create' AND status = 'completed' AND tenant_id = ?2
           AND NOT EXISTS (SELECT 1 FROM tenants WHERE id = ?2)`,
        )
        .bind(id, tenantId),
    );
  }

  /**
   * Counts one failed attempt against the link before the attempt runs (fixed window of
   * `windowMs`). Refused when the window already holds `limit`: the answer says when it opens.
   * Returns the window it was counted in, to refund a success.
   */
  async reserveAttempt(
    id: string,
    limit: number,
    windowMs: number,
    now = Date.now(),
  ): Promise<{ allowed: true; window: number } | { allowed: false; retryAfterMs: number }> {
    const expired = now - windowMs;
    const row = await this.db.first<{ failure_window: number }>(
      this.db
        .prepare(
          `UPDATE onboarding_links
         SET failures = CASE WHEN failure_window <= ?2 THEN 1 ELSE failures + 1 END,
             failure_window = CASE WHEN failure_window <= ?2 THEN ?3 ELSE failure_window END
         WHERE id = ?1 AND (failure_window <= ?2 OR failures < ?4)
         RETURNING failure_window`,
        )
        .bind(id, expired, now, limit),
    );
    if (row) return { allowed: true, window: row.failure_window };
    const current = await this.db.first<{ failure_window: number }>(
      this.db.prepare("SELECT failure_window FROM onboarding_links WHERE id = ?").bind(id),
    );
    return { allowed: false, retryAfterMs: Math.max(1_000, (current?.failure_window ?? now) + windowMs - now) };
  }

  /** The attempt succeeded: it does not count. */
  async refundAttempt(id: string, window: number): Promise<void> {
    await this.db.run(
      this.db
        .prepare("UPDATE onboarding_links SET failures = MAX(failures - 1, 0) WHERE id = ? AND failure_window = ?")
        .bind(id, window),
    );
  }
}
