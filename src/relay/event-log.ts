/**
 * A tenant's event log, in its TenantEvents Durable Object's SQLite storage: every event Zavu posted
 * for the tenant's senders, once per Zavu event id, with the state of its delivery to the customer.
 */
export const EVENT_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT UNIQUE NOT NULL,
  delivery_id TEXT UNIQUE NOT NULL,
  relay_id TEXT NOT NULL,
  sender_id TEXT NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_attempt_at INTEGER,
  last_status INTEGER,
  last_error TEXT,
  delivered_at INTEGER,
  accounted INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS events_due ON events (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS events_unaccounted ON events (accounted) WHERE accounted = 0;
CREATE INDEX IF NOT EXISTS events_received ON events (received_at);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);`;

/**
 * - pending: to be attempted at next_attempt_at;
 * - held: the tenant is suspended; attempted once it is active again;
 * - delivered: the customer's receiver answered 2xx;
 * - failed: every attempt failed (about 24 h of retries);
 * - skipped: the customer asked not to receive it (no URL, paused, or an event it did not subscribe to);
 * - dropped: the tenant is deactivated (or gone).
 */
export type DeliveryStatus = "pending" | "held" | "delivered" | "failed" | "skipped" | "dropped";
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = [
  "pending",
  "held",
  "delivered",
  "failed",
  "skipped",
  "dropped",
];

export type EventRow = {
  seq: number;
  event_id: string;
  delivery_id: string;
  relay_id: string;
  sender_id: string;
  type: string;
  payload: string;
  received_at: number;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number | null;
  last_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  accounted: number;
};

/** One delivery as the admin API and the console show it (the event's body is not included). */
export interface EventDelivery {
  id: string;
  eventId: string;
  type: string;
  senderId: string;
  status: DeliveryStatus;
  attempts: number;
  receivedAt: string;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function presentDelivery(r: EventRow): EventDelivery {
  return {
    id: r.delivery_id,
    eventId: r.event_id,
    type: r.type,
    senderId: r.sender_id,
    status: r.status,
    attempts: r.attempts,
    receivedAt: iso(r.received_at)!,
    nextAttemptAt: iso(r.next_attempt_at),
    lastAttemptAt: iso(r.last_attempt_at),
    lastStatus: r.last_status,
    lastError: r.last_error,
    deliveredAt: iso(r.delivered_at),
  };
}

/** A page cursor: the last row's sequence number, opaque to callers. */
export const encodeCursor = (seq: number) => `s${seq.toString(36)}`;
export function decodeCursor(cursor: string | undefined): number | null {
  if (cursor === undefined) return Number.MAX_SAFE_INTEGER;
  if (!/^s[0-9a-z]{1,11}$/.test(cursor)) return null;
  return Number.parseInt(cursor.slice(1), 36);
}
