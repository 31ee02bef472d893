/**
 * What the gateway tells a reseller's webhooks, as Standard Webhooks payloads: `{type, timestamp,
 * data}`. An event that must reach each webhook once (a threshold per credit limit, a tenant's first
 * refusal in an hour) names what makes it unique (`once`): its id is derived from that, so emitting it
 * again, from any isolate or Durable Object, changes nothing.
 */
export const ALERT_TYPES = [
  "tenant.credit.threshold",
  "team.balance.low",
  "tenant.rate_limited",
  "tenant.provisioning.incomplete",
  "tenant.status.changed",
  "tenant.delivery.failure_rate",
] as const;

/** What a webhook may subscribe to; `webhook.test` is only ever sent by POST /webhooks/{id}/test. */
export type AlertType = (typeof ALERT_TYPES)[number] | "webhook.test";

export interface AlertEvent {
  type: AlertType;
  tenantId: string | null;
  data: Record<string, unknown>;
  /** Makes the event happen once: e.g. "tenant.rate_limited:<tenant>:<hour>". */
  once?: string;
}

/** The delivered body: Standard Webhooks' recommended shape. */
export function payloadOf(event: AlertEvent, at: number): string {
  return JSON.stringify({ type: event.type, timestamp: new Date(at).toISOString(), data: event.data });
}

/** evt_ + 26 base32 characters: random, or derived from `once` (SHA-256) so a repeat has the same id. */
export async function eventId(once: string | undefined): Promise<string> {
  const bytes = once
    ? new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(once)))
    : crypto.getRandomValues(new Uint8Array(26));
  let id = "evt_";
  for (let i = 0; i < 26; i++) id += "0123456789abcdefghjkmnpqrstvwxyz"[bytes[i]! % 32];
  return id;
}

/** The hour a refusal falls in (ms since the epoch, UTC): tenant.rate_limited is sent once per tenant and hour. */
export const hourOf = (now: number) => Math.floor(now / 3_600_000) * 3_600_000;
