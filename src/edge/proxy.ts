import { apiError } from "../errors";
import type { Counters } from "../lib/counters";
import { readLimited } from "../lib/read-limited";

/** Never forwarded upstream: credentials, cookies, hop-by-hop and Cloudflare/proxy headers. */
const STRIPPED_REQUEST = new Set([
  "authorization",
  "cookie",
  "host",
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
  "true-client-ip",
]);
/**
 * Never passed back to the customer. content-length and content-encoding stay: the body is
 * passed through as it came, and dropping the length would turn every answer chunked (measured: -10% throughput).
 */
const STRIPPED_RESPONSE = new Set([
  "set-cookie",
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Copies natively, then drops what must not cross (a JS loop over every header costs more). */
function filtered(headers: Headers, stripped: Set<string>): Headers {
  const out = new Headers(headers);
  for (const name of stripped) out.delete(name);
  const connection = headers.get("connection");
  if (connection) for (const name of connection.split(",")) out.delete(name.trim());
  for (const name of [...out.keys()]) if (name.startsWith("cf-")) out.delete(name);
  return out;
}

/**
 * The request body, bounded: streamed when its length is declared (the runtime holds the client
 * to it, and content-length goes upstream unchanged), buffered up to the limit otherwise.
 */
async function boundedBody(request: Request, maxBytes: number): Promise<BodyInit | null> {
  if (!request.body) return null;
  const declared = request.headers.get("content-length");
  const tooLarge = () => apiError("payload_too_large", `Request body is larger than ${maxBytes} bytes.`);
  if (declared !== null) {
    if (Number(declared) > maxBytes) throw tooLarge();
    return request.body;
  }
  const bytes = await readLimited(request.body, maxBytes);
  if (!bytes) throw tooLarge();
  return bytes;
}

export interface ForwardOptions {
  counters: Counters;
  upstreamBase: string;
  apiKey: string;
  requestId: string;
  timeoutMs: number;
  maxBodyBytes: number;
}

/** Sends the customer's request to Zavu as the tenant's sub-account; the response comes back as is. */
export async function forward(request: Request, url: URL, opts: ForwardOptions): Promise<Response> {
  const headers = filtered(request.headers, STRIPPED_REQUEST);
  headers.set("authorization", `Bearer ${opts.apiKey}`);
  headers.set("x-request-id", opts.requestId);
  const body = await boundedBody(request, opts.maxBodyBytes);
  opts.counters.upstreamCalls++;
  let upstream: Response;
  try {
    upstream = await fetch(`${opts.upstreamBase}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
      throw apiError("upstream_timeout", `Zavu did not answer within ${opts.timeoutMs} ms.`);
    }
    throw apiError("upstream_unavailable", "Zavu could not be reached.");
  }
  const response = new Response(upstream.body, upstream);
  for (const name of STRIPPED_RESPONSE) response.headers.delete(name);
  for (const name of [...response.headers.keys()]) if (name.startsWith("cf-")) response.headers.delete(name);
  return response;
}
