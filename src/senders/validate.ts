import { apiError } from "../errors";
import { RELAY_PREFIX } from "../lib/relay-address";
import { urlProblem } from "../lib/url-policy";
import { SIGNATURE_VERSIONS, type SignatureVersion } from "../lib/zavu-signature";

/** The event names of the SDK's WebhookEvent (`@zavudev/sdk` resources/senders/senders.d.ts). */
export const WEBHOOK_EVENTS: ReadonlySet<string> = new Set([
  "message.queued",
  "message.sent",
  "message.delivered",
  "message.read",
  "message.status",
  "message.failed",
  "message.inbound",
  "message.unsupported",
  "broadcast.status_changed",
  "conversation.new",
  "template.status_changed",
  "invitation.status_changed",
  "call.initiated",
  "call.answered",
  "call.completed",
  "call.failed",
  "domain.verified",
  "domain.failed",
]);

export const MAX_WEBHOOK_EVENTS = 30;

/** What the gateway always asks Zavu for, whatever the customer subscribes to: the delivery outcomes. */
export const GATEWAY_EVENTS = ["message.delivered", "message.failed"] as const;

/** The webhook fields of a create or update, as the customer wrote them (undefined: not given). */
export interface WebhookInput {
  /** null (update only): remove the customer's webhook. */
  url?: string | null;
  events?: string[];
  signatureVersion?: SignatureVersion;
  active?: boolean;
}

export const WEBHOOK_FIELDS = ["webhookUrl", "webhookEvents", "webhookSignatureVersion", "webhookActive"] as const;

function invalid(path: string, message: string): never {
  throw apiError("invalid_request", `${path} ${message}.`, [{ path, message }]);
}

/**
 * Reads and checks the webhook fields of a sender create or update. The URL obeys the policy of every URL
 * given to the gateway (public https; http to a loopback host only when ALLOW_HTTP_JWKS), and may not
 * point at the gateway's own relay.
 */
export function webhookInput(
  body: Record<string, unknown>,
  opts: { allowHttpLoopback: boolean; update: boolean; ownHosts: string[] },
): WebhookInput {
  const out: WebhookInput = {};
  const url = body.webhookUrl;
  if (url !== undefined) {
    if (url === null && opts.update) out.url = null;
    else if (typeof url !== "string") invalid("webhookUrl", opts.update ? "must be a URL or null" : "must be a URL");
    else {
      const problem = urlProblem(url, { allowHttpLoopback: opts.allowHttpLoopback });
      if (problem)
        throw apiError("invalid_webhook_url", `webhookUrl ${problem}.`, [{ path: "webhookUrl", message: problem }]);
      const parsed = new URL(url);
      if (opts.ownHosts.includes(parsed.host) && parsed.pathname.startsWith(RELAY_PREFIX)) {
        throw apiError("invalid_webhook_url", "webhookUrl must not point at the gateway's own relay.", [
          { path: "webhookUrl", message: "must not point at the gateway's own relay" },
        ]);
      }
      out.url = url;
    }
  }
  const events = body.webhookEvents;
  if (events !== undefined) {
    if (!Array.isArray(events) || events.some((e) => typeof e !== "string")) {
      invalid("webhookEvents", "must be an array of event names");
    }
    const list = events as string[];
    if (list.length > MAX_WEBHOOK_EVENTS) invalid("webhookEvents", `must list at most ${MAX_WEBHOOK_EVENTS} events`);
    const unknown = list.filter((e) => !WEBHOOK_EVENTS.has(e));
    if (unknown.length > 0) invalid("webhookEvents", `names unknown events (${unknown.slice(0, 3).join(", ")})`);
    out.events = [...new Set(list)];
  }
  const version = body.webhookSignatureVersion;
  if (version !== undefined) {
    if (typeof version !== "string" || !SIGNATURE_VERSIONS.includes(version as SignatureVersion)) {
      invalid("webhookSignatureVersion", "must be one of v1, v1+v2, v2");
    }
    out.signatureVersion = version as SignatureVersion;
  }
  const active = body.webhookActive;
  if (active !== undefined) {
    if (!opts.update) invalid("webhookActive", "is set by updating the sender");
    if (typeof active !== "boolean") invalid("webhookActive", "must be true or false");
    out.active = active;
  }
  return out;
}

/** Zavu's rule, applied to the customer's setting (the gateway's record of it): v1 moves to v2 through v1+v2. */
export function checkVersionChange(from: SignatureVersion, to: SignatureVersion | undefined): void {
  if (from === "v1" && to === "v2") {
    throw apiError("invalid_request", 'Moving from "v1" straight to "v2" is not allowed: set "v1+v2" first.', [
      { path: "webhookSignatureVersion", message: "v1 cannot move straight to v2; set v1+v2 first" },
    ]);
  }
}

/** The events asked of Zavu: the customer's and the delivery outcomes. */
export function upstreamEvents(customer: string[]): string[] {
  return [...new Set([...customer, ...GATEWAY_EVENTS])];
}
