import { apiError } from "../errors";
import type { Counters } from "../lib/counters";
import { readLimited } from "../lib/read-limited";
import { UpstreamError, upstreamFetch } from "../upstream/upstream-fetch";

/**
 * The only request headers Zavu sees from a customer: what the official SDK sends. Everything
 * else stays behind, so method overrides, custom hop-by-hop headers, proxy and Cloudflare headers,
 * cookies and credentials never reach Zavu. (The gateway sets authorization and x-request-id.)
 */
export const FORWARDED_REQUEST_HEADERS = [
  "accept",
  "accept-language",
  "content-type",
  "content-length",
  "idempotency-key",
  "zavu-sender",
  "user-agent",
  "x-stainless-lang",
  "x-stainless-package-version",
  "x-stainless-os",
  "x-stainless-arch",
  "x-stainless-runtime",
  "x-stainless-runtime-version",
  "x-stainless-retry-count",
  "x-stainless-timeout",
] as const;

/**
 * The only answer headers a customer sees from Zavu: the body's description, caching, retry and
 * rate-limit hints. Server, via and whatever else names the servers behind Zavu stay behind.
 * content-length and content-encoding stay: the body is passed through as it came (dropping the
 * length would turn every answer chunked: measured -10% throughput).
 */
export const RETURNED_RESPONSE_HEADERS = [
  "content-type",
  "content-length",
  "content-encoding",
  "content-language",
  "cache-control",
  "expires",
  "etag",
  "last-modified",
  "vary",
  "date",
  "retry-after",
  "retry-after-ms",
  "x-should-retry",
  "ratelimit",
  "ratelimit-policy",
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
] as const;

/** The header names a Connection header lists (hop-by-hop by definition), or null. */
function hopByHopOf(from: Headers): Set<string> | null {
  const connection = from.get("connection");
  // Compared, never passed to Headers: a client's Connection value need not be a valid header name.
  return connection
    ? new Set(
        connection
          .toLowerCase()
          .split(",")
          .map((n) => n.trim()),
      )
    : null;
}

/*
 * The allowed headers, minus any that the Connection header names, as a name -> value record: the
 * runtime converts a record into the outgoing headers at about a third of the cost of name/value pairs
 * (measured in workerd: 5 pairs ~11 µs, the same record ~3 µs). Only allowlisted names become keys
 * (never "__proto__"), and each comes once, with its values combined, as Headers gives them.
 */

/**
 * A customer's request: a lookup per allowed name. Cheaper than a pass over what the customer sent,
 * which copies every header into JS, the JWT in Authorization included (measured: ~3.5 vs ~6 µs).
 */
function pickRequest(from: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = from.get(name);
    if (value !== null) out[name] = value;
  }
  const hopByHop = hopByHopOf(from);
  if (hopByHop) for (const name of hopByHop) delete out[name];
  return out;
}

/** Zavu's answer: one pass over the headers present (a handful, fewer than the allowed names). */
function pickResponse(from: Headers): Record<string, string> {
  const hopByHop = hopByHopOf(from);
  const out: Record<string, string> = {};
  for (const [name, value] of from) {
    if (RETURNED.has(name) && !hopByHop?.has(name)) out[name] = value;
  }
  return out;
}

const RETURNED = new Set<string>(RETURNED_RESPONSE_HEADERS);

/** Request bodies are forwarded as sent and capped by size: a compressed one could expand past the cap upstream. */
function assertIdentityEncoding(request: Request): void {
  const encoding = request.headers.get("content-encoding");
  if (encoding !== null && request.body !== null && encoding.trim().toLowerCase() !== "identity") {
    throw apiError(
      "unsupported_content_encoding",
      `Content-Encoding ${JSON.stringify(encoding)} is not accepted; send the body uncompressed.`,
    );
  }
}

/**
 * The request body, bounded: streamed when its length is declared (the runtime holds the client
 * to it, and content-length goes upstream unchanged), buffered up to the limit otherwise.
 */
async function boundedBody(request: Request, maxBytes: number): Promise<BodyInit | null> {
  if (!request.body) return null;
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > maxBytes) throw tooLarge(maxBytes);
    return request.body;
  }
  const bytes = await readLimited(request.body, maxBytes);
  if (!bytes) throw tooLarge(maxBytes);
  return bytes;
}

function tooLarge(maxBytes: number) {
  return apiError("payload_too_large", `Request body is larger than ${maxBytes} bytes.`);
}

export interface ForwardOptions {
  counters: Counters;
  upstreamBase: string;
  apiKey: string;
  requestId: string;
  timeoutMs: number;
  maxBodyBytes: number;
}

/**
 * Sends the customer's request to Zavu as the tenant's sub-account, with the allowlisted headers only;
 * Zavu's answer comes back with its status and body as they are, and the allowlisted headers.
 */
export async function forward(request: Request, url: URL, opts: ForwardOptions): Promise<Response> {
  assertIdentityEncoding(request);
  const headers = pickRequest(request.headers);
  headers.authorization = `Bearer ${opts.apiKey}`;
  headers["x-request-id"] = opts.requestId;
  // The client's own preference: a client that sent none must not receive a compressed answer.
  headers["accept-encoding"] = request.headers.get("accept-encoding") ?? "identity";
  const body = await boundedBody(request, opts.maxBodyBytes);
  let upstream: Response;
  try {
    upstream = await upstreamFetch(
      `${opts.upstreamBase}${url.pathname}${url.search}`,
      { method: request.method, headers, body },
      opts,
    );
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    throw apiError(err.kind === "timeout" ? "upstream_timeout" : "upstream_unavailable", err.message);
  }
  return new Response(upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: pickResponse(upstream.headers),
  });
}

/** A JSON call to Zavu made by the gateway on the customer's behalf (the senders service). */
export type UpstreamJsonCall = (
  method: string,
  pathAndQuery: string,
  body?: unknown,
  opts?: { ownCall?: boolean },
) => Promise<Response>;

/**
 * The calls the gateway's own services make to Zavu for one customer request, under forward()'s header
 * policy: the customer's allowlisted headers (idempotency-key, zavu-sender, the SDK's own), the tenant's
 * key, the request id. The body is the service's JSON, so the customer's content-length and
 * content-type never go with it; answers are asked for uncompressed (the service reads them).
 */
export function upstreamCaller(request: Request, opts: ForwardOptions): UpstreamJsonCall {
  const base = pickRequest(request.headers);
  delete base["content-length"];
  delete base["content-type"];
  delete base.accept;
  return async (method, pathAndQuery, body, call) => {
    const headers: Record<string, string> = { ...base };
    // A call of the gateway's own (a follow-up, a clean-up) is not the customer's request: not its idempotency key.
    if (call?.ownCall) delete headers["idempotency-key"];
    headers.accept = "application/json";
    headers.authorization = `Bearer ${opts.apiKey}`;
    headers["x-request-id"] = opts.requestId;
    headers["accept-encoding"] = "identity";
    if (body !== undefined) headers["content-type"] = "application/json";
    let upstream: Response;
    try {
      upstream = await upstreamFetch(
        `${opts.upstreamBase}${pathAndQuery}`,
        { method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
        opts,
      );
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      throw apiError(err.kind === "timeout" ? "upstream_timeout" : "upstream_unavailable", err.message);
    }
    return new Response(upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: pickResponse(upstream.headers),
    });
  };
}

/** The request body as JSON, bounded like forward()'s (413 over the cap, 415 when compressed); null when empty. */
export async function jsonBodyOf(request: Request, maxBodyBytes: number): Promise<unknown> {
  assertIdentityEncoding(request);
  if (!request.body) return null;
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBodyBytes) {
    throw tooLarge(maxBodyBytes);
  }
  const bytes = await readLimited(request.body, maxBodyBytes);
  if (!bytes) throw tooLarge(maxBodyBytes);
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    throw apiError("invalid_request", "The request body is not valid JSON.");
  }
}
