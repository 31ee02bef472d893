// Outbound service for the tests: every fetch() the gateway (or a test) makes lands here
// and is routed by host to the Zavu sandbox or the test identity provider. Nothing leaves
// the machine.
//
// Zavu's answers come back as a real API behind a CDN and a load balancer would send them:
// with headers that name the servers behind it, and gzip-compressed whenever the request
// allows it (RFC 9110: a request without Accept-Encoding accepts any coding).

/** What a CDN and load balancer add; none of it may reach a customer. */
export const INTERNAL_HEADERS = {
  server: "zavu-edge/1.4 (envoy)",
  via: "1.1 lb-3.zavu.internal",
  "x-served-by": "api-7.zavu.internal",
  "x-backend-server": "10.0.3.7:8080",
  "x-powered-by": "Express",
  "x-envoy-upstream-service-time": "3",
  "x-amz-cf-pop": "FRA56-P1",
};

function acceptsGzip(request) {
  const accept = request.headers.get("accept-encoding");
  if (accept === null) return true;
  return accept
    .toLowerCase()
    .split(",")
    .some((part) => {
      const [coding, ...params] = part.split(";").map((s) => s.trim());
      const q = params.find((p) => p.startsWith("q="));
      return (coding === "gzip" || coding === "*") && !(q && Number(q.slice(2)) === 0);
    });
}

async function asBehindCdn(request, response) {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(INTERNAL_HEADERS)) headers.set(name, value);
  if (!response.body || !acceptsGzip(request)) {
    return new Response(response.body, { status: response.status, headers });
  }
  const compressed = await new Response(response.body.pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
  headers.set("content-encoding", "gzip");
  headers.delete("content-length");
  return new Response(compressed, { status: response.status, headers, encodeBody: "manual" });
}

/** The sandbox's request for a connection fault (sandbox/src/faults.ts): "reset" or "slow-body=<ms>". */
const CONNECTION_FAULT_HEADER = "x-sandbox-connection-fault";

/** Status and headers now, the body `ms` later (a slow or stalled upstream body). */
function slowBody(response, ms, ctx) {
  const { readable, writable } = new TransformStream();
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  ctx.waitUntil(
    (async () => {
      const bytes = await response.arrayBuffer();
      await scheduler.wait(ms);
      const writer = writable.getWriter();
      await writer.write(new Uint8Array(bytes)).catch(() => {});
      await writer.close().catch(() => {});
    })(),
  );
  return new Response(readable, { status: response.status, headers, encodeBody: "manual" });
}

async function fromSandbox(request, env, ctx) {
  const response = await env.SANDBOX.fetch(request);
  const fault = response.headers.get(CONNECTION_FAULT_HEADER);
  if (fault === "reset") {
    await response.body?.cancel();
    // What the gateway's fetch() sees when Zavu's connection is reset mid-request.
    throw new Error("simulated connection reset by peer (expected: a sandbox reset fault)");
  }
  const headers = new Headers(response.headers);
  headers.delete(CONNECTION_FAULT_HEADER);
  const answer = await asBehindCdn(request, new Response(response.body, { status: response.status, headers }));
  const delay = fault?.startsWith("slow-body=") ? Number(fault.slice("slow-body=".length)) : 0;
  return delay > 0 ? slowBody(answer, delay, ctx) : answer;
}

export default {
  async fetch(request, env, ctx) {
    const host = new URL(request.url).hostname;
    if (host === "zavu.sandbox") return fromSandbox(request, env, ctx);
    // A host whose connections fail, as when Zavu is unreachable.
    if (host === "down.sandbox") throw new Error("simulated connection refused (expected: upstream_unavailable test)");
    if (host === "idp.test" || host === "idp2.test") return env.IDP.fetch(request);
    // A key set on plain http at loopback, as only development may use: served by the test IdP, so a
    // test sees whether the gateway fetched it (test/edge/jwks-policy.test.ts).
    if (request.url.startsWith("http://127.0.0.1:")) return env.IDP.fetch(request);
    return Response.json({ code: "no_network", message: `tests have no route to ${host}` }, { status: 502 });
  },
};
