import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorName } from "./lib/error-name";

/**
 * Every error the gateway can answer, as Zavu does: `{code, message, details?}`. One table
 * gives each code its status and a default message; the admin OpenAPI document's error
 * descriptions come from it, and docs/errors.md's table is checked against it
 * (test/node/architecture/errors-table.test.ts).
 */
export const ERRORS = {
  invalid_request: { status: 400, message: "The request is not valid." },
  invalid_identity: {
    status: 400,
    message:
      "This identity would accept tokens made for other parties' apps: an issuer shared by many needs an audience.",
  },
  invalid_webhook_url: {
    status: 400,
    message:
      "webhookUrl must be a public https URL (http to a loopback host only in development), without credentials.",
  },
  unauthorized: { status: 401, message: "Missing or invalid credentials." },
  invalid_signature: {
    status: 401,
    message: "The event's X-Zavu-Signature is missing, malformed, stale (over 5 minutes) or does not match.",
  },
  credit_limit_reached: { status: 402, message: "This tenant has reached its credit limit." },
  insufficient_balance: { status: 402, message: "The balance available to this tenant is exhausted." },
  forbidden: { status: 403, message: "Your role does not allow this; it needs a higher one." },
  cross_site_request: {
    status: 403,
    message:
      "A browser sent this change from another site (or without proving its origin): only the gateway's own pages may make it.",
  },
  route_not_allowed: { status: 403, message: "This route is not available through this gateway." },
  phone_numbers_managed_by_reseller: {
    status: 403,
    message: "Buying and releasing numbers costs money outside the credit limit; ask your provider.",
  },
  tenant_suspended: {
    status: 403,
    message: "This tenant is suspended; messaging is blocked. The balance stays readable.",
  },
  tenant_deactivated: { status: 403, message: "This tenant has been deactivated." },
  tenant_not_ready: { status: 403, message: "This tenant is still being provisioned." },
  event_not_for_sender: {
    status: 403,
    message: "The event names a sender or project that this relay does not serve; it was refused and audited.",
  },
  not_found: { status: 404, message: "Not found." },
  conflict: { status: 409, message: "The request conflicts with the current state." },
  invalid_state: { status: 409, message: "The tenant is not in a state that allows this." },
  idempotency_in_progress: { status: 409, message: "A request with this Idempotency-Key is still being processed." },
  operation_in_progress: { status: 409, message: "Another operation on this tenant is in progress; retry shortly." },
  identity_cooling_down: {
    status: 409,
    message: "This identity was released by another tenant moments ago; it can be registered again shortly.",
  },
  maintenance_busy: { status: 409, message: "A maintenance run is working on this job; try again in a minute." },
  sender_deleted: { status: 410, message: "This sender was deleted; its events are no longer relayed." },
  payload_too_large: { status: 413, message: "The request body is too large." },
  unsupported_content_encoding: {
    status: 415,
    message: "Request bodies must not be compressed: send them without Content-Encoding (or identity).",
  },
  idempotency_key_reused: {
    status: 422,
    message: "This Idempotency-Key was used with a different request body.",
  },
  internal_error: { status: 500, message: "The gateway failed to handle this request." },
  upstream_unavailable: { status: 502, message: "Zavu could not be reached." },
  upstream_auth_failed: {
    status: 502,
    message: "Zavu refused this tenant's credentials; the gateway will reload them.",
  },
  upstream_error: { status: 502, message: "Zavu refused the operation." },
  not_configured: { status: 503, message: "This gateway is not configured for this call." },
  provisioning_incomplete: { status: 503, message: "Provisioning was interrupted; retry or repair." },
  change_incomplete: {
    status: 503,
    message: "Zavu has this change but the gateway's record does not yet; send the same change again to finish it.",
  },
  budget_unavailable: {
    status: 503,
    message: "The gateway could not check this tenant's budget just now; nothing was sent. Retry in a second.",
  },
  key_rotation_incomplete: { status: 503, message: "Key rotation was interrupted; the tenant keeps its key. Retry." },
  propagation_pending: {
    status: 503,
    message:
      "The change is saved, but not every gateway isolate has been told yet; it is re-published automatically. Retrying is safe.",
  },
  upstream_timeout: { status: 504, message: "Zavu did not answer in time." },
  link_expired: { status: 410, message: "This onboarding link has expired; ask your provider for a new one." },
  link_used: { status: 410, message: "This onboarding link has already been used." },
  link_revoked: { status: 410, message: "This onboarding link has been revoked; ask your provider for a new one." },
  rate_limited: { status: 429, message: "Too many requests; try again later." },
  daily_quota_exceeded: {
    status: 429,
    message: "This tenant has used its daily sends; the quota resets at midnight UTC.",
  },
} as const satisfies Record<string, { status: ContentfulStatusCode; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An error the gateway answers with. Its status comes from the table, never from the thrower. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  /** Headers the answer carries (e.g. Retry-After and the RateLimit fields of a 429). */
  headers?: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
  ) {
    super(message ?? ERRORS[code].message);
    this.name = "ApiError";
    this.status = ERRORS[code].status;
  }
}

/** `throw apiError("tenant_suspended")`, or with a message and details of its own. */
export function apiError(code: ErrorCode, message?: string, details?: unknown): ApiError {
  return new ApiError(code, message, details);
}

export function errorBody(code: string, message: string, details?: unknown): string {
  return JSON.stringify(details === undefined ? { code, message } : { code, message, details });
}

export function errorResponse(err: ApiError, headers?: HeadersInit): Response {
  const h = new Headers(err.headers);
  for (const [name, value] of new Headers(headers)) h.set(name, value);
  h.set("content-type", "application/json; charset=utf-8");
  return new Response(errorBody(err.code, err.message, err.details), { status: err.status, headers: h });
}

/** The one place an exception becomes a response: ApiErrors as they are, anything else a bare 500. */
export function toErrorResponse(err: unknown, requestId: string, path: string): Response {
  if (err instanceof ApiError) return errorResponse(err);
  // Log the kind of failure only: messages from lower layers could quote request data.
  console.error(
    JSON.stringify({ level: "error", requestId, error: err instanceof Error ? errorName(err) : typeof err, path }),
  );
  return errorResponse(apiError("internal_error"));
}
