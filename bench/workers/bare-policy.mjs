// A second baseline: the bare proxy plus the gateway's proxying policy and nothing else (no token, no
// tenant, no budgets, no usage, no log): the allowlisted request headers as a record, a request id, the
// body bounded by its declared length, a fetch with a timeout signal and no redirects, and a new answer
// with the allowlisted headers (src/edge/proxy.ts and src/upstream/upstream-fetch.ts, copied). Run it
// in place of a gateway build to split the gateway's added CPU into what that policy costs any proxy
// and what the gateway's own work costs:
//   npm run bench:ab -- --base bench/workers/bare-policy.mjs
// It exports empty Durable Object classes under the gateway's names, so it binds where a build would.
import { DurableObject } from "cloudflare:workers";

const FORWARDED = [
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
];
const RETURNED = new Set([
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
]);

export default {
  async fetch(request, env) {
    const requestId = request.headers.get("x-request-id") ?? crypto.randomUUID();
    const url = new URL(request.url);
    if (request.headers.get("content-encoding") !== null && request.body !== null) {
      return Response.json({ code: "unsupported_content_encoding" }, { status: 415 });
    }
    const headers = {};
    for (const name of FORWARDED) {
      const value = request.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    headers.authorization = `Bearer ${env.ZAVU_API_KEY}`;
    headers["x-request-id"] = requestId;
    headers["accept-encoding"] = request.headers.get("accept-encoding") ?? "identity";
    const declared = request.headers.get("content-length");
    if (declared !== null && Number(declared) > 65_536)
      return Response.json({ code: "payload_too_large" }, { status: 413 });
    const upstream = await fetch(`${env.ZAVU_API_BASE}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(10_000),
    });
    const out = {};
    for (const [name, value] of upstream.headers) if (RETURNED.has(name)) out[name] = value;
    const response = new Response(upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: out,
    });
    response.headers.set("x-request-id", requestId);
    return response;
  },
};

export class ControlPlane extends DurableObject {}
export class SpendLedger extends DurableObject {}
export class UsageShard extends DurableObject {}
export class WebhookDispatcher extends DurableObject {}
export class TenantEvents extends DurableObject {}
