/** A Zavu event as the relay reads it (the body is delivered to the customer as it came, byte for byte). */
export interface ZavuEvent {
  id: string;
  type: string;
  /** Unix ms when Zavu dispatched it. */
  timestamp: number;
  senderId: string;
  projectId: string;
  data: Record<string, unknown>;
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;
const TYPE = /^[a-z][a-z0-9_.]{0,63}$/;

/** The event, when the body is one: an object with the fields above, ids short and plain. */
export function parseEvent(body: string): ZavuEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const e = value as Record<string, unknown>;
  const ok =
    typeof e.id === "string" &&
    ID.test(e.id) &&
    typeof e.type === "string" &&
    TYPE.test(e.type) &&
    typeof e.timestamp === "number" &&
    e.timestamp > 0 &&
    e.timestamp < 1e13 && // unix ms, before the year 2286: a date every part of the gateway can format
    typeof e.senderId === "string" &&
    ID.test(e.senderId) &&
    typeof e.projectId === "string" &&
    ID.test(e.projectId) &&
    typeof e.data === "object" &&
    e.data !== null &&
    !Array.isArray(e.data);
  return ok ? (e as unknown as ZavuEvent) : null;
}

/** What a delivery outcome event says of its message (message.delivered / message.failed). */
export interface OutcomeFacts {
  outcome: "delivered" | "failed";
  /** When Zavu dispatched the event (unix ms): the UTC day it counts on. */
  at: number;
  messageId: string | null;
  channel: string | null;
  /** When the message was created (unix ms); null when the event does not say. */
  sentAt: number | null;
  /** Zavu charged nothing for it: data.costTotal is 0 (a failed send Zavu did not bill). */
  free: boolean;
}

export function outcomeOf(type: string, payload: string): OutcomeFacts | null {
  if (type !== "message.delivered" && type !== "message.failed") return null;
  const event = JSON.parse(payload) as ZavuEvent;
  const data = event.data;
  const channel = typeof data.channel === "string" && /^[a-z_]{1,32}$/.test(data.channel) ? data.channel : null;
  const created = typeof data.createdAt === "string" ? Date.parse(data.createdAt) : Number.NaN;
  return {
    outcome: type === "message.delivered" ? "delivered" : "failed",
    at: event.timestamp,
    messageId: typeof data.messageId === "string" && data.messageId.length <= 128 ? data.messageId : null,
    channel,
    sentAt: Number.isFinite(created) ? created : null,
    free: data.costTotal === 0,
  };
}
