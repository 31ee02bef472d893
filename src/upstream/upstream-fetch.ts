import type { Counters } from "../lib/counters";

/** A failed upstream call: an HTTP error from Zavu, a timeout, or no connection. */
export class UpstreamError extends Error {
  constructor(
    readonly kind: "http" | "timeout" | "network",
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

/**
 * Every call to Zavu, the proxied customer calls and the gateway's own: counted, bounded in time,
 * never following a redirect, and failing as an UpstreamError ("timeout" or "network") that callers
 * map to the gateway's 504 upstream_timeout / 502 upstream_unavailable.
 */
export async function upstreamFetch(
  url: string,
  init: RequestInit,
  opts: { timeoutMs: number; counters: Counters },
): Promise<Response> {
  opts.counters.upstreamCalls++;
  try {
    return await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(opts.timeoutMs) });
  } catch (err) {
    if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
      throw new UpstreamError("timeout", 504, "upstream_timeout", `Zavu did not answer within ${opts.timeoutMs} ms.`);
    }
    throw new UpstreamError("network", 502, "upstream_unavailable", "Zavu could not be reached.");
  }
}
