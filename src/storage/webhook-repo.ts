import type { Counters } from "../lib/counters";
import { CountedDb } from "./db";

export type DeliveryStatus = "pending" | "delivered" | "failed" | "cancelled";

export interface WebhookRecord {
  id: string;
  /** What the reseller calls it ("Billing system"); null when it gave none. */
  name: string | null;
  url: string;
  events: string[];
  secretCiphertext: string;
  createdAt: number;
  deletedAt: number | null;
}

export interface DeliveryRecord {
  id: string;
  webhookId: string;
  eventId: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** A delivery with what an attempt needs: the endpoint, its sealed secret, the event's body. */
export interface DueDelivery extends DeliveryRecord {
  url: string;
  secretCiphertext: string;
  payload: string;
}

interface WebhookRow {
  id: string;
  name: string | null;
  url: string;
  events: string;
  secret_ciphertext: string;
  created_at: number;
  deleted_at: number | null;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number | null;
  last_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

const webhookOf = (r: WebhookRow): WebhookRecord => ({
  id: r.id,
  name: r.name,
  url: r.url,
  events: JSON.parse(r.events) as string[],
  secretCiphertext: r.secret_ciphertext,
  createdAt: r.created_at,
  deletedAt: r.deleted_at,
});

const deliveryOf = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id,
  webhookId: r.webhook_id,
  eventId: r.event_id,
  type: r.type,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastAttemptAt: r.last_attempt_at,
  lastStatus: r.last_status,
  lastError: r.last_error,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

const DELIVERY_COLUMNS = `d.id, d.webhook_id, d.event_id, e.type, d.status, d.attempts, d.next_attempt_at,
  d.last_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at`;

/** Webhook endpoints, the events sent to them, and each delivery's attempts, in D1. Every query is counted. */
export class WebhookRepo {
  private readonly db: CountedDb;

  constructor(d1: D1Database, counters: Counters) {
    this.db = new CountedDb(d1, counters);
  }

  async insert(w: Omit<WebhookRecord, "deletedAt">): Promise<void> {
    await this.db.run(
      this.db
        .prepare(
          "INSERT INTO webhooks (id, name, url, events, secret_ciphertext, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(w.id, w.name, w.url, JSON.stringify(w.events), w.secretCiphertext, w.createdAt),
    );
  }

  /** Endpoints (deleted ones too: their deliveries may still be retried) whose secret is not sealed under `prefix`. */
  async sealedOutside(prefix: string, opts: { after: string; limit: number }) {
    const { results } = await this.db.all<{ id: string; secret_ciphertext: string }>(
      this.db
        .prepare(
          `SELECT id, secret_ciphertext FROM webhooks
           WHERE substr(secret_ciphertext, 1, ?1) != ?2 AND id > ?3 ORDER BY id LIMIT ?4`,
        )
        .bind(prefix.length, prefix, opts.after, opts.limit),
    );
    return results.map((r) => ({ id: r.id, sealed: r.secret_ciphertext }));
  }

  /** Replaces a sealed secret only if it is still the one that was read. */
  replaceSealedStatement(id: string, from: string, to: string): D1PreparedStatement {
    return this.db
      .prepare("UPDATE webhooks SET secret_ciphertext = ? WHERE id = ? AND secret_ciphertext = ?")
      .bind(to, id, from);
  }

  async get(id: string): Promise<WebhookRecord | null> {
    const row = await this.db.first<WebhookRow>(this.db.prepare("SELECT * FROM webhooks WHERE id = ?").bind(id));
    return row ? webhookOf(row) : null;
  }

  /** Live endpoints, oldest first (a reseller registers a handful). */
  async list(limit = 100): Promise<WebhookRecord[]> {
    const { results } = await this.db.all<WebhookRow>(
      this.db.prepare("SELECT * FROM webhooks WHERE deleted_at IS NULL ORDER BY id LIMIT ?").bind(limit),
    );
    return results.map(webhookOf);
  }

  async countLive(): Promise<number> {
    const row = await this.db.first<{ n: number }>(
      this.db.prepare("SELECT COUNT(*) AS n FROM webhooks WHERE deleted_at IS NULL"),
    );
    return row?.n ?? 0;
  }

  /** Deletes (keeps the row for its deliveries' history) and cancels what it still had to deliver. */
  async remove(id: string, now: number): Promise<boolean> {
    const [deleted] = await this.db.batch([
      this.db.prepare("UPDATE webhooks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL").bind(now, id),
      this.db
        .prepare(
          "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL WHERE webhook_id = ? AND status = 'pending'",
        )
        .bind(id),
    ]);
    return (deleted?.meta.changes ?? 0) === 1;
  }

  async updateSecret(id: string, secretCiphertext: string): Promise<void> {
    await this.db.run(
      this.db.prepare("UPDATE webhooks SET secret_ciphertext = ? WHERE id = ?").bind(secretCiphertext, id),
    );
  }

  /**
   * The event (once: a second emission with the same id is ignored) and one pending delivery for each
   * live webhook that subscribed to its type (or only for `onlyWebhook`), in one batch. Resolves with
   * the number of deliveries queued.
   */
  async emit(
    event: { id: string; type: string; tenantId: string | null; payload: string },
    now: number,
    only?: { webhookId: string; dueAt: number },
  ): Promise<number> {
    const [, deliveries] = await this.db.batch(this.emitStatements(event, now, only));
    return deliveries?.meta.changes ?? 0;
  }

  /**
   * emit's statements, to commit with the change the event announces. `only`: one webhook, whatever it
   * subscribed to, with its first attempt due then (a test event, which its caller attempts itself).
   */
  emitStatements(
    event: { id: string; type: string; tenantId: string | null; payload: string },
    now: number,
    only?: { webhookId: string; dueAt: number },
  ): D1PreparedStatement[] {
    return [
      this.db
        .prepare(
          "INSERT OR IGNORE INTO webhook_events (id, type, tenant_id, payload, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(event.id, event.type, event.tenantId, event.payload, now),
      this.db
        .prepare(
          `INSERT OR IGNORE INTO webhook_deliveries (id, webhook_id, event_id, status, attempts, next_attempt_at, created_at)
           SELECT 'dlv_' || lower(hex(randomblob(13))), w.id, ?1, 'pending', 0, COALESCE(?5, ?2), ?2 FROM webhooks w
           WHERE w.deleted_at IS NULL
             AND (?4 IS NULL OR w.id = ?4)
             AND (?4 IS NOT NULL OR EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = ?3))`,
        )
        .bind(event.id, now, event.type, only?.webhookId ?? null, only?.dueAt ?? null),
    ];
  }

  /** Pending deliveries due by `now`, oldest due first. */
  async due(now: number, limit: number): Promise<DueDelivery[]> {
    const { results } = await this.db.all<DeliveryRow & { url: string; secret_ciphertext: string; payload: string }>(
      this.db
        .prepare(
          `SELECT ${DELIVERY_COLUMNS}, w.url, w.secret_ciphertext, e.payload
           FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN webhook_events e ON e.id = d.event_id
           WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ?`,
        )
        .bind(now, limit),
    );
    return results.map((r) => ({
      ...deliveryOf(r),
      url: r.url,
      secretCiphertext: r.secret_ciphertext,
      payload: r.payload,
    }));
  }

  /** One delivery as an attempt needs it. */
  async dueOne(id: string): Promise<DueDelivery | null> {
    const row = await this.db.first<DeliveryRow & { url: string; secret_ciphertext: string; payload: string }>(
      this.db
        .prepare(
          `SELECT ${DELIVERY_COLUMNS}, w.url, w.secret_ciphertext, e.payload
           FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN webhook_events e ON e.id = d.event_id
           WHERE d.id = ?`,
        )
        .bind(id),
    );
    return row
      ? { ...deliveryOf(row), url: row.url, secretCiphertext: row.secret_ciphertext, payload: row.payload }
      : null;
  }

  /** The delivery of `eventId` to `webhookId`. */
  async deliveryFor(webhookId: string, eventId: string): Promise<DeliveryRecord | null> {
    const row = await this.db.first<DeliveryRow>(
      this.db
        .prepare(
          `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
           WHERE d.webhook_id = ? AND d.event_id = ?`,
        )
        .bind(webhookId, eventId),
    );
    return row ? deliveryOf(row) : null;
  }

  /** Takes a due delivery for one attempt: nobody else attempts it until `until` (an attempt that dies is retried then). */
  async claim(id: string, attempts: number, until: number): Promise<boolean> {
    const result = await this.db.run(
      this.db
        .prepare(
          "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND attempts = ?",
        )
        .bind(until, id, attempts),
    );
    return result.meta.changes === 1;
  }

  /**
   * Records an attempt: delivered, or failed with the next attempt's time (null: given up). Only onto
   * the delivery as it was attempted (`attempts` before this one), so recording the same attempt again
   * (after an answer D1 lost) changes nothing.
   */
  async recordAttempt(
    id: string,
    attempts: number,
    outcome: { ok: boolean; status: number | null; error: string | null; at: number; nextAttemptAt: number | null },
  ): Promise<void> {
    const status: DeliveryStatus = outcome.ok ? "delivered" : outcome.nextAttemptAt === null ? "failed" : "pending";
    await this.db.run(
      this.db
        .prepare(
          `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_attempt_at = ?, last_status = ?,
             last_error = ?, next_attempt_at = ?, delivered_at = ? WHERE id = ? AND status = 'pending' AND attempts = ?`,
        )
        .bind(
          status,
          outcome.at,
          outcome.status,
          outcome.error,
          outcome.ok ? null : outcome.nextAttemptAt,
          outcome.ok ? outcome.at : null,
          id,
          attempts,
        ),
    );
  }

  /** When the next pending delivery is due (null: none). */
  async nextDue(): Promise<number | null> {
    const row = await this.db.first<{ at: number | null }>(
      this.db.prepare("SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'"),
    );
    return row?.at ?? null;
  }

  /** A webhook's deliveries, newest first (keyset on created_at, id). */
  async deliveries(webhookId: string, opts: { limit: number; before?: { at: number; id: string } }) {
    const before = opts.before ?? { at: Number.MAX_SAFE_INTEGER, id: "" };
    const { results } = await this.db.all<DeliveryRow>(
      this.db
        .prepare(
          `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
           WHERE d.webhook_id = ?1 AND (d.created_at < ?2 OR (d.created_at = ?2 AND d.id < ?3))
           ORDER BY d.created_at DESC, d.id DESC LIMIT ?4`,
        )
        .bind(webhookId, before.at, before.id || "\uffff", opts.limit),
    );
    return results.map(deliveryOf);
  }

  /** Forgets events and their deliveries older than `before`, a bounded number at a time. */
  async prune(before: number, limit = 500): Promise<void> {
    await this.db.batch([
      this.db
        .prepare(
          `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
               WHERE created_at < ? AND status != 'pending' LIMIT ?)`,
        )
        .bind(before, limit),
      this.db
        .prepare(
          `DELETE FROM webhook_events WHERE id IN (SELECT e.id FROM webhook_events e WHERE e.created_at < ?
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id) LIMIT ?)`,
        )
        .bind(before, limit),
    ]);
  }
}
