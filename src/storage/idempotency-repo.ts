import type { Counters } from "../lib/counters";
import { CountedDb } from "./db";

/** An Idempotency-Key as stored (table idempotency_keys). */
export interface IdempotencyRecord {
  /** Of the request body: a retry must send the same one. */
  fingerprint: string;
  /** The stored outcome; null while the first request runs, or after it stopped half way. */
  status: number | null;
  response: string | null;
  /** The tenant the first request created, for a retry to resume. */
  tenantId: string | null;
  /** Until when the request that holds the key may still be running (0: released). */
  lockedUntil: number;
}

/**
 * Idempotency-Keys of admin POSTs: the claim and its hold, the tenant a run created, the stored
 * outcome. admin/idempotency.ts decides what a retry gets.
 */
export class IdempotencyRepo {
  private readonly db: CountedDb;

  constructor(d1: D1Database, counters: Counters) {
    this.db = new CountedDb(d1, counters);
  }

  /** Creates the key, held until `lockedUntil`; false when it exists already. */
  async claim(key: string, fingerprint: string, now: number, lockedUntil: number): Promise<boolean> {
    const claimed = await this.db.run(
      this.db
        .prepare(
          `INSERT INTO idempotency_keys (key, fingerprint, created_at, locked_until) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO NOTHING`,
        )
        .bind(key, fingerprint, now, lockedUntil),
    );
    return claimed.meta.changes === 1;
  }

  /** Binds the key to the tenant its request creates, in the batch that creates it. */
  bindTenantStatement(key: string, tenantId: string): D1PreparedStatement {
    return this.db.prepare("UPDATE idempotency_keys SET tenant_id = ? WHERE key = ?").bind(tenantId, key);
  }

  /** Stores the outcome every retry gets, and releases the hold. */
  async finish(key: string, status: number, response: string): Promise<void> {
    await this.db.run(
      this.db
        .prepare("UPDATE idempotency_keys SET status = ?, response = ?, locked_until = 0 WHERE key = ?")
        .bind(status, response, key),
    );
  }

  /**
   * Releases a key whose request did not finish: with a tenant bound to it, the key stays for a retry
   * to resume that tenant; without one nothing was created, and the key is forgotten.
   */
  async release(key: string): Promise<void> {
    await this.db.batch([
      this.db.prepare("UPDATE idempotency_keys SET locked_until = 0 WHERE key = ? AND tenant_id IS NOT NULL").bind(key),
      this.db.prepare("DELETE FROM idempotency_keys WHERE key = ? AND tenant_id IS NULL AND status IS NULL").bind(key),
    ]);
  }

  async get(key: string): Promise<IdempotencyRecord | null> {
    const row = await this.db.first<{
      fingerprint: string;
      status: number | null;
      response: string | null;
      tenant_id: string | null;
      locked_until: number;
    }>(
      this.db
        .prepare("SELECT fingerprint, status, response, tenant_id, locked_until FROM idempotency_keys WHERE key = ?")
        .bind(key),
    );
    return row
      ? {
          fingerprint: row.fingerprint,
          status: row.status,
          response: row.response,
          tenantId: row.tenant_id,
          lockedUntil: row.locked_until,
        }
      : null;
  }

  /** Takes over a released key (or one whose holder died): compare-and-set on its hold, so one taker only. */
  async takeOver(key: string, lockedUntil: number, previousLockedUntil: number): Promise<boolean> {
    const took = await this.db.run(
      this.db
        .prepare("UPDATE idempotency_keys SET locked_until = ? WHERE key = ? AND locked_until = ? AND status IS NULL")
        .bind(lockedUntil, key, previousLockedUntil),
    );
    return took.meta.changes === 1;
  }
}
