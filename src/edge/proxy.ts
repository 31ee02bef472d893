import { ApiError } from "../errors";
import { counters } from "../storage/counters";

/** Never forwarded upstream: credentials, cookies, hop-by-hop and Cloudflare/proxy headers. */
const STRIPPED_REQUEST = new Set([
  "authorization", "cookie", "host", "content-length",
  "connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "proxy-connection",
  "te", "trailer", "transfer-encoding", "upgrade",
  "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "true-client-ip",
]);
/** Never passed back to the customer. */
const STRIPPED_RESPONSE = new Set([
  "set-cookie", "connection", "keep-alive", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade",
  "content-length", "content-encoding",
]);

function copyHeaders(from: Headers, stripped: Set<string>): Headers {
  const out = new Headers();
  const listed = (from.get("connection") ?? "").toLowerCase().split(",").map((s) => s.trim());
  for (const [name, value] of from) {
    if (stripped.has(name) || name.startsWith("cf-") || listed.includes(name)) continue;
    out.append(name, value);
  }
  return out;
}

/** The request body, bounded: streamed when its length is declared, buffered up to the limit otherwise. */
async function boundedBody(request: Request, maxBytes: number): Promise<BodyInit | null> {
  if (!request.body) return null;
  const declared = request.headers.get("content-length");
  const tooLarge = () => new ApiError(413, "payload_too_large", `Request body is larger than ${maxBytes} bytes.`);
  if (declared !== null) {
    if (Number(declared) > maxBytes) throw tooLarge();
    return request.body;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new Blob(chunks);
}

export interface ForwardOptions {
  upstreamBase: string;
  apiKey: string;
  requestId: string;
  timeoutMs: number;
  maxBodyBytes: number;
}

/** Sends the customer's request to Zavu as the tenant's sub-account; the response comes back as is. */
export async function forward(request: Request, url: URL, opts: ForwardOptions): Promise<Response> {
  const headers = copyHeaders(request.headers, STRIPPED_REQUEST);
  headers.set("authorization", `Bearer ${opts.apiKey}`);
  headers.set("x-request-id", opts.requestId);
  const body = await boundedBody(request, opts.maxBodyBytes);
  counters.upstreamCalls++;
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
      throw new ApiError(504, "upstream_timeout", `Zavu did not answer within ${opts.timeoutMs} ms.`);
    }
    throw new ApiError(502, "upstream_unavailable", "Zavu could not be reached.");
  }
  const out = copyHeaders(upstream.headers, STRIPPED_RESPONSE);
  out.set("x-request-id", opts.requestId);
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers: out });
}
