/**
 * Structured logs: one JSON object per line, which Workers Logs indexes field by field
 * ([observability] in wrangler.toml). Every line is one of the shapes below, built from ids,
 * codes, statuses and timings only: never a key, token, ciphertext or request body.
 */

/** Which per-isolate caches answered a customer request (true = hit, false = miss, absent = not consulted). */
export interface CacheHits {
  /** The verified-token cache (the JWT's signature was not checked again). */
  token?: boolean;
  /** The tenant row cache (no D1 query). */
  tenant?: boolean;
  /** The opened sub-account key (no decryption). */
  key?: boolean;
}

/** One per customer request on /v1/* (the edge writes it). */
export interface RequestLine {
  kind: "request";
  requestId: string;
  /** Null when the token did not lead to a tenant. */
  tenantId: string | null;
  method: string;
  /** The allowlisted route pattern, e.g. "POST /v1/messages"; null when refused before routing. */
  route: string | null;
  status: number;
  /** Zavu's status; null when the request never reached Zavu. */
  upstreamStatus: number | null;
  latencyMs: number;
  cache: CacheHits;
  /** The gateway's error code when it refused or failed the request itself; null otherwise. */
  refusal: string | null;
  /**
   * The share of requests like this one that are logged: 1 for refusals, errors and slow requests
   * (always logged), LOG_SAMPLE_RATE for the rest. Counting lines? Weigh each by 1 / sampleRate.
   */
  sampleRate: number;
}

/** One per admin API call. */
export interface AdminLine {
  kind: "admin";
  requestId: string;
  /** Who: a fingerprint of the admin token used (+ X-Admin-Actor); null when authentication failed. */
  actor: string | null;
  method: string;
  /** The matched route pattern, e.g. "/admin/v1/tenants/:id". */
  route: string;
  tenantId: string | null;
  status: number;
  latencyMs: number;
  /** The error code of an error answer; null on success. */
  code: string | null;
}

/** One per maintenance run (the cron, or an admin call that runs a job). */
export interface MaintenanceLine {
  kind: "maintenance";
  runId: string;
  trigger: "cron" | "admin";
  durationMs: number;
  subrequests: number;
  jobs: Array<{ job: string; outcome: string; counts: Record<string, number>; passComplete: boolean; error?: string }>;
}

/** One per event Zavu posts to the relay (refusals always; the rest at LOG_SAMPLE_RATE, as requests). */
export interface RelayLine {
  kind: "relay";
  requestId: string;
  /** Null when the relay id led to no sender. (The relay id itself is never logged: it is the relay's address.) */
  tenantId: string | null;
  senderId: string | null;
  /** Zavu's event id and type, once the signature was checked; null before. */
  eventId: string | null;
  type: string | null;
  status: number;
  /** The gateway's error code when it refused the event; null when it took it. */
  refusal: string | null;
  /** The event was taken before (Zavu retried it): not queued again. */
  duplicate: boolean;
  latencyMs: number;
  sampleRate: number;
}

export type LogLine = RequestLine | AdminLine | MaintenanceLine | RelayLine;

/** Writes the line; failures (5xx, failed jobs) go to console.error so Workers Logs marks them as errors. */
export function log(line: LogLine): void {
  const text = JSON.stringify({ at: new Date().toISOString(), ...line });
  const failed =
    (line.kind !== "maintenance" && line.status >= 500) ||
    (line.kind === "maintenance" && line.jobs.some((j) => j.outcome === "failed"));
  if (failed) console.error(text);
  else console.log(text);
}

/** Milliseconds since `startedAt` (performance.now() or Date.now() readings), rounded to 0.1 ms. */
export function elapsedMs(startedAt: number, now = performance.now()): number {
  return Math.round((now - startedAt) * 10) / 10;
}
