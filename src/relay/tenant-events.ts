import { DurableObject } from "cloudflare:workers";
import { alertSink } from "../alerts/emit";
import { FailureWindow, failureRateAlert } from "../alerts/failure-window";
import { config } from "../config";
import type { Env } from "../env";
import { createCounters } from "../lib/counters";
import { sortableId } from "../lib/ids";
import { releaseFailedSend } from "../spend/release";
import { auditStatement } from "../storage/audit";
import { type RelayTenant, type SenderRecord, SenderRepo } from "../storage/senders-repo";
import { TenantRepo } from "../storage/tenants";
import { recordDeliveryOutcome } from "../usage/outcomes";
import { attemptDelivery, skipReason } from "./deliver";
import { outcomeOf } from "./event";
import {
  type DeliveryStatus,
  decodeCursor,
  EVENT_LOG_SCHEMA,
  type EventDelivery,
  type EventRow,
  encodeCursor,
  presentDelivery,
} from "./event-log";
import { eventRetryDelay } from "./schedule";

/** What the relay hands over: one checked event. */
export interface IncomingEvent {
  tenantId: string;
  relayId: string;
  senderId: string;
  eventId: string;
  type: string;
  /** The body as Zavu sent it: delivered byte for byte. */
  payload: string;
  /** The sender and tenant as the relay read them in D1 to check this event (null: the tenant is gone). */
  seen?: { sender: SenderRecord; tenant: RelayTenant | null };
}

/**
 * How old a read of the tenant or a sender may be when a delivery is decided on it. The relay read
 * both in D1 moments before handing the event over: its first attempt needs no read of its own. So a
 * suspension, a deactivation or a change of the customer's URL applies to deliveries within 2 s
 * (reactivation at once: it clears what was read).
 */
const FRESH_MS = 2_000;

/** Events attempted per alarm (at most PER_SENDER of one sender); more due means another alarm at once. */
const BATCH = 50;
const PER_SENDER = 10;
/** A suspended tenant's held events are looked at again this often (reactivation also resumes them at once). */
const HELD_RECHECK_MS = 10 * 60_000;
/** Finished deliveries are kept this long in the log, and looked for at most this often. */
const KEEP_MS = 30 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;
const OUTCOME_TYPES = new Set(["message.delivered", "message.failed"]);

/**
 * One tenant's event relay (Durable Object, one per tenant): takes each Zavu event once (by Zavu's
 * event id, whichever isolate Zavu's retry reached), keeps it durably before the relay answers Zavu,
 * and delivers it to the customer's receiver with retries for about a day. Within one sender, events
 * are attempted in the order they arrived; a failed one is retried later while the next ones go on,
 * so a receiver may see a retried event after later ones (each carries Zavu's timestamp).
 */
export class TenantEvents extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly counters = createCounters();
  /** Customer secrets opened by this object, by ciphertext (a regenerated secret is a new ciphertext). */
  private readonly secrets = new Map<string, string>();
  /** This object's tenant (stored in meta too: an evicted object reads it back). */
  private tenantId: string | null = null;
  /** The alarm this object has set (null: none; undefined: not known since it started). */
  private alarmAt: number | null | undefined;
  private prunedAt = 0;
  /** D1 reads at most FRESH_MS old: the tenant, and senders by relay id. */
  private recentTenant: { value: RelayTenant | null; at: number } | null = null;
  private readonly recentSenders = new Map<string, { value: SenderRecord; at: number }>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(EVENT_LOG_SCHEMA);
  }

  /** Stores the event unless it was taken before; true when it was (Zavu retried it). */
  async accept(e: IncomingEvent): Promise<{ duplicate: boolean }> {
    if (this.tenantId !== e.tenantId) {
      this.setMeta("tenantId", e.tenantId);
      this.tenantId = e.tenantId;
    }
    const now = Date.now();
    const inserted = this.sql
      .exec(
        `INSERT INTO events (event_id, delivery_id, relay_id, sender_id, type, payload, received_at, status,
         next_attempt_at, accounted)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (event_id) DO NOTHING RETURNING seq`,
        e.eventId,
        sortableId("edl", now),
        e.relayId,
        e.senderId,
        e.type,
        e.payload,
        now,
        now,
        OUTCOME_TYPES.has(e.type) ? 0 : 1,
      )
      .toArray();
    if (inserted.length === 0) return { duplicate: true };
    if (e.seen) {
      this.recentTenant = { value: e.seen.tenant, at: now };
      if (this.recentSenders.size > 1_000) this.recentSenders.clear();
      this.recentSenders.set(e.relayId, { value: e.seen.sender, at: now });
    }
    await this.wake(now);
    return { duplicate: false };
  }

  /** The delivery log, newest first. */
  async list(opts: { status?: DeliveryStatus; limit: number; cursor?: string }): Promise<{
    items: EventDelivery[];
    nextCursor: string | null;
  } | null> {
    const before = decodeCursor(opts.cursor);
    if (before === null) return null;
    const rows = opts.status
      ? this.sql
          .exec<EventRow>(
            "SELECT * FROM events WHERE status = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
            opts.status,
            before,
            opts.limit + 1,
          )
          .toArray()
      : this.sql
          .exec<EventRow>("SELECT * FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?", before, opts.limit + 1)
          .toArray();
    const page = rows.slice(0, opts.limit);
    return {
      items: page.map(presentDelivery),
      nextCursor: rows.length > opts.limit ? encodeCursor(page[page.length - 1]!.seq) : null,
    };
  }

  /** Attempts a delivery again now, from the start of the retry schedule; null when there is no such delivery. */
  async replay(deliveryId: string): Promise<EventDelivery | null> {
    const now = Date.now();
    const [row] = this.sql
      .exec<EventRow>(
        `UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = ?, delivered_at = NULL
         WHERE delivery_id = ? RETURNING *`,
        now,
        deliveryId,
      )
      .toArray();
    if (!row) return null;
    await this.wake(now);
    return presentDelivery(row);
  }

  /** The tenant is active again: what was held goes out now. */
  async resume(): Promise<void> {
    const now = Date.now();
    this.recentTenant = null; // read as suspended: read again
    this.sql.exec("UPDATE events SET status = 'pending', next_attempt_at = ? WHERE status = 'held'", now);
    await this.wake(now);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null; // this one has fired
    this.tenantId ??= this.meta("tenantId");
    const tenantId = this.tenantId;
    if (!tenantId) return;
    const cfg = config(this.env);
    const tenant = await this.tenant(tenantId);
    const now = Date.now();
    let more = false;
    if (!tenant || tenant.status === "deactivated") {
      await this.drop(tenantId, now, tenant ? "tenant deactivated" : "tenant deleted");
    } else if (tenant.status !== "active") {
      // Suspended (or not yet provisioned): kept, and delivered once it is active again.
      this.sql.exec("UPDATE events SET status = 'held', next_attempt_at = NULL WHERE status = 'pending'");
    } else {
      // Oldest first, at most PER_SENDER of one sender: a receiver that hangs cannot fill the batch.
      const due = this.sql
        .exec<EventRow>(
          `SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY relay_id ORDER BY seq) AS nth FROM events
             WHERE status = 'pending' AND next_attempt_at <= ?) WHERE nth <= ? ORDER BY seq LIMIT ?`,
          now,
          PER_SENDER,
          BATCH,
        )
        .toArray();
      if (due.length > 0) {
        const senders = await this.senders(tenantId, due);
        // Per sender in order of arrival; senders side by side.
        const bySender = new Map<string, EventRow[]>();
        for (const row of due) bySender.set(row.relay_id, [...(bySender.get(row.relay_id) ?? []), row]);
        await Promise.all(
          [...bySender].map(async ([relayId, rows]) => {
            for (const [i, row] of rows.entries()) {
              if (await this.deliverOne(row, senders.get(relayId), cfg)) continue;
              // Its receiver failed: the sender's other events wait for its next retry instead of each
              // waiting out a timeout now (none of them counts an attempt).
              const later = rows.slice(i + 1).map((r) => r.seq);
              const retryAt = Date.now() + (eventRetryDelay(1, cfg.webhookRetryScale) ?? 0);
              if (later.length > 0)
                this.sql.exec(
                  `UPDATE events SET next_attempt_at = ? WHERE status = 'pending' AND seq IN (${later.map(() => "?").join(",")})`,
                  retryAt,
                  ...later,
                );
              break;
            }
          }),
        );
        more = due.length === BATCH;
      }
    }
    // After the deliveries: the customer does not wait for the records. A failure here (a usage shard or a
    // ledger unreachable) leaves the batch to the next alarm; it never stops the retries being scheduled.
    try {
      if (tenant) await this.account(tenant, cfg.deliveryFailureAlertRate);
      else this.sql.exec("UPDATE events SET accounted = 1 WHERE accounted = 0"); // nobody to count them for
    } catch (err) {
      console.error(JSON.stringify({ level: "error", relay: "accounting", tenantId, error: String(err) }));
    }
    if (more) {
      await this.setAlarm(Date.now());
      return;
    }
    await this.scheduleNext();
  }

  private async tenant(tenantId: string): Promise<RelayTenant | null> {
    if (this.recentTenant && Date.now() - this.recentTenant.at < FRESH_MS) return this.recentTenant.value;
    const at = Date.now();
    const t = await new TenantRepo(this.env.DB, this.counters).get(tenantId);
    const value = t && { id: t.id, status: t.status, subAccountId: t.subAccountId, creditLimit: t.creditLimit };
    this.recentTenant = { value, at };
    return value;
  }

  /** The senders of these events: as read moments ago, the others read now (by relay id). */
  private async senders(tenantId: string, rows: EventRow[]): Promise<Map<string, SenderRecord>> {
    const now = Date.now();
    const found = new Map<string, SenderRecord>();
    const missing = new Set<string>();
    for (const row of rows) {
      const recent = this.recentSenders.get(row.relay_id);
      if (recent && now - recent.at < FRESH_MS) found.set(row.relay_id, recent.value);
      else missing.add(row.relay_id);
    }
    if (missing.size === 0) return found;
    for (const s of await new SenderRepo(this.env.DB, this.counters).byRelayIds([...missing])) {
      if (s.tenantId !== tenantId) continue; // never another tenant's (a relay id names one sender of one tenant)
      found.set(s.relayId, s);
      this.recentSenders.set(s.relayId, { value: s, at: now });
    }
    return found;
  }

  private async deliverOne(
    row: EventRow,
    sender: SenderRecord | undefined,
    cfg: ReturnType<typeof config>,
  ): Promise<boolean> {
    const skip = skipReason(sender, row.type);
    if (skip) {
      this.sql.exec(
        "UPDATE events SET status = 'skipped', next_attempt_at = NULL, last_error = ? WHERE seq = ? AND status = 'pending'",
        skip,
        row.seq,
      );
      return true;
    }
    const result = await attemptDelivery(sender!, row.payload, {
      keyring: cfg.keyring,
      allowHttpLoopback: cfg.allowHttpJwks,
      counters: this.counters,
      secrets: this.secrets,
    });
    const at = Date.now();
    const attempts = row.attempts + 1;
    const delay = result.ok ? null : eventRetryDelay(attempts, cfg.webhookRetryScale);
    const status: DeliveryStatus = result.ok ? "delivered" : delay === null ? "failed" : "pending";
    // Only if nothing else (a replay) changed the row while the attempt was out.
    this.sql.exec(
      `UPDATE events SET status = ?, attempts = ?, last_attempt_at = ?, last_status = ?, last_error = ?,
         next_attempt_at = ?, delivered_at = ? WHERE seq = ? AND status = 'pending' AND attempts = ?`,
      status,
      attempts,
      at,
      result.status,
      result.error,
      delay === null ? null : at + delay,
      result.ok ? at : null,
      row.seq,
      row.attempts,
    );
    return result.ok;
  }

  /**
   * Delivery outcomes (message.delivered / message.failed), each once, whatever becomes of their
   * delivery to the customer: counted in the usage records, a failed send Zavu charged nothing for
   * released from the spend ledgers, and the tenant's failure rate watched. Each step is safe to repeat
   * if this object dies half way (the usage shard takes a batch id once, the ledger a message once);
   * only the failure window could count an outcome twice then.
   */
  private async account(tenant: RelayTenant, alertRate: number | null): Promise<void> {
    const rows = this.sql
      .exec<EventRow>("SELECT * FROM events WHERE accounted = 0 ORDER BY seq LIMIT ?", BATCH)
      .toArray();
    if (rows.length === 0) return;
    const window = alertRate === null ? null : FailureWindow.parse(this.meta("failureWindow"), alertRate);
    const alerts = alertSink(this.env, this.counters);
    for (const row of rows) {
      const facts = outcomeOf(row.type, row.payload);
      if (facts) {
        await recordDeliveryOutcome(this.env, this.counters, {
          eventId: row.event_id,
          tenantId: tenant.id,
          at: facts.at,
          channel: facts.channel,
          outcome: facts.outcome,
        });
        // Only with the message's id: the ledger credits one message once, however often this runs.
        if (facts.outcome === "failed" && facts.free && facts.sentAt !== null && facts.messageId)
          await releaseFailedSend(this.env, tenant, facts.sentAt, facts.messageId);
        const transition = window?.observe(facts.outcome);
        if (window && transition) await alerts.emit(failureRateAlert(tenant.id, window, transition));
      }
    }
    // Marked with the window they moved, at once: an object that died above repeats the batch, and
    // every step above takes a repeat as nothing new (the alert's id names its episode and state).
    this.sql.exec("UPDATE events SET accounted = 1 WHERE accounted = 0 AND seq <= ?", rows[rows.length - 1]!.seq);
    if (window) this.setMeta("failureWindow", window.serialise());
  }

  /** A deactivated tenant's events go nowhere: one audit entry a UTC day says so. */
  private async drop(tenantId: string, now: number, reason: string): Promise<void> {
    const dropped = this.sql
      .exec(
        "UPDATE events SET status = 'dropped', next_attempt_at = NULL, last_error = ? WHERE status IN ('pending', 'held') RETURNING seq",
        reason,
      )
      .toArray().length;
    const day = new Date(now).toISOString().slice(0, 10);
    if (dropped > 0 && this.meta("dropAuditDay") !== day) {
      await this.env.DB.batch([
        auditStatement(this.env.DB, {
          actor: "relay",
          action: "relay.events_dropped",
          tenantId,
          detail: { reason, day, firstBatch: dropped },
        }),
      ]);
      this.setMeta("dropAuditDay", day);
    }
  }

  private async scheduleNext(): Promise<void> {
    const next = this.sql
      .exec<{ at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM events WHERE status = 'pending'")
      .one().at;
    const held = this.sql.exec("SELECT 1 FROM events WHERE status = 'held' LIMIT 1").toArray().length > 0;
    const unaccounted = this.sql.exec("SELECT 1 FROM events WHERE accounted = 0 LIMIT 1").toArray().length > 0;
    const now = Date.now();
    let at: number | null = null;
    if (unaccounted) at = now + 10;
    else if (next !== null) at = Math.max(next, now + 10);
    else if (held) at = now + HELD_RECHECK_MS;
    if (at !== null) await this.setAlarm(at);
    else this.alarmAt = undefined; // an event taken while this ran may have set one
    if (now - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = now;
      this.sql.exec("DELETE FROM events WHERE received_at < ? AND status NOT IN ('pending', 'held')", now - KEEP_MS);
    }
  }

  private async setAlarm(at: number): Promise<void> {
    await this.ctx.storage.setAlarm(at);
    this.alarmAt = at;
  }

  /** Makes sure an alarm runs by `at` (asking storage only when this object does not know its alarm). */
  private async wake(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > at) await this.setAlarm(at);
  }

  private meta(name: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE name = ?", name).toArray()[0]?.value ?? null;
  }

  private setMeta(name: string, value: string): void {
    this.sql.exec(
      "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      name,
      value,
    );
  }
}
