import type { DeliveryRecord, WebhookRecord } from "../../../storage/webhook-repo";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The API shape of a webhook; the secret only when it was just made. */
export function presentWebhook(w: WebhookRecord, secret?: string) {
  return {
    id: w.id,
    name: w.name,
    url: w.url,
    events: w.events,
    ...(secret ? { secret } : {}),
    createdAt: new Date(w.createdAt).toISOString(),
    deletedAt: iso(w.deletedAt),
  };
}

export function presentDelivery(d: DeliveryRecord) {
  return {
    id: d.id,
    eventId: d.eventId,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === "pending" ? iso(d.nextAttemptAt) : null,
    lastAttemptAt: iso(d.lastAttemptAt),
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: new Date(d.createdAt).toISOString(),
    deliveredAt: iso(d.deliveredAt),
  };
}
