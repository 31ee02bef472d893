import { newId } from "./ids";
import type { SenderRow, SenderStore } from "./senders";
import { allRows, oneRow } from "./sql";
import type { Store } from "./store";

/**
 * Message lifecycles and the webhook posts they cause, over two SQLite tables scheduled with the
 * Durable Object's alarm (so nothing due is lost when the object is evicted):
 *
 * - message_events: the status steps of accepted sends (queued, sent, delivered or failed), applied to
 *   the stored message when due; each one a sender's webhook subscribes to becomes a delivery.
 * - webhook_deliveries: one row per event posted to a URL, with its attempts (the deliveries log).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS message_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, account TEXT NOT NULL, sender_id TEXT,
  type TEXT NOT NULL, cents INTEGER NOT NULL, due_at INTEGER NOT NULL, applied_at INTEGER);
CREATE INDEX IF NOT EXISTS message_events_due ON message_events (applied_at, due_at);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT UNIQUE NOT NULL, sender_id TEXT NOT NULL,
  url TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, headers TEXT NOT NULL DEFAULT '{}',
  attempts TEXT NOT NULL DEFAULT '[]', due_at INTEGER);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (due_at);
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY, sender_id TEXT NOT NULL, contact TEXT NOT NULL, created_at TEXT NOT NULL,
  UNIQUE (sender_id, contact));
`;
const TABLES = ["message_events", "webhook_deliveries", "conversations"];
const ATTEMPTS = 3;
/** Zavu expects an answer within about 5 s. */
const POST_TIMEOUT_MS = 5_000;
/** A claimed delivery whose attempt never finished (the object was evicted mid-post) is tried again after this. */
const CLAIM_MS = 30_000;
const DELIVERIES_MAX = 5_000;

/** Recipients whose number ends in 0000 fail: message.queued, then message.failed. */
export const isUndeliverable = (to: string) => to.endsWith("0000");

export interface Attempt {
  /** The HTTP status, or null for a connection error or timeout. */
  status: number | null;
  /** ISO time the attempt was made. */
  at: string;
}

interface EventRow {
  seq: number;
  message_id: string;
  account: string;
  sender_id: string | null;
  type: string;
  cents: number;
  due_at: number;
}

interface DeliveryRow {
  seq: number;
  event_id: string;
  sender_id: string;
  url: string;
  type: string;
  body: string;
  headers: string;
  attempts: string;
  due_at: number | null;
}

/** How a post leaves: the state wires in its own app for its own host. */
export type Poster = (request: Request) => Promise<Response>;

export class Webhooks {
  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
    private readonly store: Store,
    private readonly senders: SenderStore,
    private readonly post: Poster,
  ) {
    sql.exec(SCHEMA);
  }

  reset(): void {
    for (const table of TABLES) this.sql.exec(`DELETE FROM ${table}`);
  }

  // ---- scheduling ----------------------------------------------------------------------

  /** An accepted send: queued, sent and delivered (or queued and failed) at 1x, 2x, 3x deliveryDelayMs. */
  async scheduleSend(send: { messageId: string; account: string; senderId: string | null; to: string; cents: number }) {
    const delay = this.store.webhookTiming().deliveryDelayMs;
    const steps = isUndeliverable(send.to)
      ? ["message.queued", "message.failed"]
      : ["message.queued", "message.sent", "message.delivered"];
    const now = Date.now();
    steps.forEach((type, i) => {
      this.sql.exec(
        "INSERT INTO message_events (message_id, account, sender_id, type, cents, due_at) VALUES (?, ?, ?, ?, ?, ?)",
        send.messageId,
        send.account,
        send.senderId,
        type,
        send.cents,
        now + delay * (i + 1),
      );
    });
    await this.arm();
  }

  /** A message from a contact to a sender: conversation.new (first time only), then message.inbound. */
  async inbound(sender: SenderRow, from: string, text: string): Promise<{ messageId: string; events: string[] }> {
    const createdAt = new Date().toISOString();
    const messageId = newId("msg_");
    let conversation = oneRow<{ id: string }>(
      this.sql,
      "SELECT id FROM conversations WHERE sender_id = ? AND contact = ?",
      sender.id,
      from,
    );
    const isNew = !conversation;
    if (!conversation) {
      conversation = { id: newId("conv_") };
      this.sql.exec(
        "INSERT INTO conversations (id, sender_id, contact, created_at) VALUES (?, ?, ?, ?)",
        conversation.id,
        sender.id,
        from,
        createdAt,
      );
    }
    const to = sender.phone_number || null;
    this.store.insertMessage(sender.account, null, {
      id: messageId,
      channel: "sms",
      createdAt,
      direction: "inbound",
      messageType: "text",
      status: "received",
      from,
      to,
      text,
      senderId: sender.id,
      conversationId: conversation.id,
    });
    const events: string[] = [];
    const emit = (type: string, data: Record<string, unknown>) => {
      const id = this.enqueue(sender, type, data);
      if (id) events.push(id);
    };
    if (isNew) {
      emit("conversation.new", {
        conversationId: conversation.id,
        phoneNumber: from,
        channel: "sms",
        firstMessageId: messageId,
        firstMessageText: text,
        profileName: null,
      });
    }
    emit("message.inbound", {
      messageId,
      conversationId: conversation.id,
      from,
      to,
      channel: "sms",
      messageType: "text",
      text,
      providerTimestamp: null,
      createdAt,
    });
    await this.arm();
    return { messageId, events };
  }

  /** Queues one event for the sender's webhook, if it has one, is active and subscribes to the type. */
  private enqueue(sender: SenderRow, type: string, data: Record<string, unknown>): string | null {
    if (!sender.webhook_url || !sender.webhook_active) return null;
    if (!(JSON.parse(sender.webhook_events) as string[]).includes(type)) return null;
    const id = newId("evt_");
    const body = JSON.stringify({
      id,
      type,
      timestamp: Date.now(),
      senderId: sender.id,
      projectId: sender.account,
      data,
    });
    this.sql.exec(
      "INSERT INTO webhook_deliveries (event_id, sender_id, url, type, body, due_at) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      sender.id,
      sender.webhook_url,
      type,
      body,
      Date.now(),
    );
    this.sql.exec(
      "DELETE FROM webhook_deliveries WHERE seq <= (SELECT MAX(seq) FROM webhook_deliveries) - ? AND due_at IS NULL",
      DELIVERIES_MAX,
    );
    return id;
  }

  /** Sets the alarm for the earliest thing due. */
  private async arm(): Promise<void> {
    const next = oneRow<{ at: number | null }>(
      this.sql,
      `SELECT MIN(at) AS at FROM (
         SELECT MIN(due_at) AS at FROM message_events WHERE applied_at IS NULL
         UNION ALL SELECT MIN(due_at) FROM webhook_deliveries WHERE due_at IS NOT NULL)`,
    )?.at;
    if (next === null || next === undefined) return;
    const current = await this.storage.getAlarm();
    if (current === null || current > next) await this.storage.setAlarm(next);
  }

  // ---- the alarm -----------------------------------------------------------------------

  /** Applies due message events and makes due webhook attempts, then sets the next alarm. */
  async run(): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const now = Date.now();
      for (const event of allRows<EventRow>(
        this.sql,
        "SELECT * FROM message_events WHERE applied_at IS NULL AND due_at <= ? ORDER BY due_at, seq",
        now,
      )) {
        this.apply(event);
      }
      const due = allRows<DeliveryRow>(
        this.sql,
        "SELECT * FROM webhook_deliveries WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, seq",
        now,
      );
      if (due.length === 0) break;
      for (const d of due)
        this.sql.exec("UPDATE webhook_deliveries SET due_at = ? WHERE seq = ?", now + CLAIM_MS, d.seq);
      // One URL's events go out in order; different URLs in parallel.
      const byUrl = new Map<string, DeliveryRow[]>();
      for (const d of due) byUrl.set(d.url, [...(byUrl.get(d.url) ?? []), d]);
      await Promise.all(
        [...byUrl.values()].map(async (rows) => {
          for (const row of rows) await this.attempt(row);
        }),
      );
    }
    await this.arm();
  }

  private apply(event: EventRow): void {
    this.sql.exec("UPDATE message_events SET applied_at = ? WHERE seq = ?", Date.now(), event.seq);
    const status = event.type.slice("message.".length);
    const failed = status === "failed";
    const error = failed ? { errorCode: "undeliverable", errorMessage: "The recipient cannot receive messages." } : {};
    const message = this.store.updateMessage(event.account, event.message_id, { status, ...error });
    if (!message || !event.sender_id) return;
    const sender = this.senders.sender(event.account, event.sender_id);
    if (!sender) return;
    // What it cost: 0 when it failed; at queued, only what the send's answer said (null when costAtAccept is
    // off, as a lagging Zavu); from sent on, the charge.
    const costTotal = failed
      ? 0
      : status === "queued"
        ? ((message.costTotal as number | null | undefined) ?? null)
        : event.cents / 100;
    this.enqueue(sender, event.type, {
      messageId: event.message_id,
      status,
      channel: message.channel,
      to: message.to,
      from: sender.phone_number || null,
      createdAt: message.createdAt,
      costTotal,
      ...error,
    });
  }

  private async attempt(row: DeliveryRow): Promise<void> {
    const attempts = JSON.parse(row.attempts) as Attempt[];
    const sender = this.senders.senderById(row.sender_id);
    // A sender deleted, or its webhook removed or paused, between attempts: no more attempts.
    if (!sender?.webhook_url || !sender.webhook_active || !sender.secret) {
      this.sql.exec("UPDATE webhook_deliveries SET due_at = NULL WHERE seq = ?", row.seq);
      return;
    }
    const headers = {
      "content-type": "application/json",
      "user-agent": "Zavu-Webhooks/1.0",
      "x-zavu-signature": await signature(sender.secret, sender.signature_version, row.body),
    };
    let status: number | null = null;
    const at = new Date().toISOString();
    try {
      const res = await this.post(
        new Request(row.url, {
          method: "POST",
          headers,
          body: row.body,
          redirect: "manual",
          signal: AbortSignal.timeout(POST_TIMEOUT_MS),
        }),
      );
      status = res.status;
      await res.body?.cancel();
    } catch {
      status = null;
    }
    attempts.push({ status, at });
    const ok = status !== null && status >= 200 && status < 300;
    const retryDelays = this.store.webhookTiming().webhookRetryDelaysMs;
    const retryIn = retryDelays[attempts.length - 1];
    const dueAt = ok || attempts.length >= ATTEMPTS || retryIn === undefined ? null : Date.now() + retryIn;
    this.sql.exec(
      "UPDATE webhook_deliveries SET attempts = ?, headers = ?, due_at = ? WHERE seq = ?",
      JSON.stringify(attempts),
      JSON.stringify(headers),
      dueAt,
      row.seq,
    );
  }

  // ---- the log -------------------------------------------------------------------------

  /** Every event queued for a URL, newest first, with its attempts so far. */
  deliveries(senderId?: string) {
    return allRows<DeliveryRow>(
      this.sql,
      "SELECT * FROM webhook_deliveries WHERE ?1 IS NULL OR sender_id = ?1 ORDER BY seq DESC",
      senderId ?? null,
    ).map((r) => ({
      url: r.url,
      eventId: r.event_id,
      type: r.type,
      senderId: r.sender_id,
      attempts: JSON.parse(r.attempts) as Attempt[],
      /** Whether another attempt is scheduled (or one is under way). */
      pending: r.due_at !== null,
      body: r.body,
      headers: JSON.parse(r.headers) as Record<string, string>,
    }));
  }
}

/** `t=<unix seconds>,v1=<hex>` and/or `v2=<hex>`: v1 signs the body, v2 `${t}.${body}`; the key is the whole secret. */
export async function signature(secret: string, version: string, body: string): Promise<string> {
  const t = Math.floor(Date.now() / 1000);
  const parts = [`t=${t}`];
  if (version === "v1" || version === "v1+v2") parts.push(`v1=${await hmacHex(secret, body)}`);
  if (version === "v2" || version === "v1+v2") parts.push(`v2=${await hmacHex(secret, `${t}.${body}`)}`);
  return parts.join(",");
}

async function hmacHex(secret: string, text: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, enc.encode(text));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
