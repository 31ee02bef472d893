// A second baseline: the bare proxy plus the gateway's proxying policy and nothing else (no token, no
// tenant, no budgets, no usage, no log). It calls the gateway's own forward() (src/edge/proxy.ts: the
// allowlisted headers both ways, the bounded body, a fetch with a timeout and no redirects, a new
// answer) with a fixed key and a request id. Run it in place of a gateway build to split the gateway's
// added CPU into what that policy costs any proxy and what the gateway's own work costs:
//   npm run bench:ab -- --base bench/workers/bare-policy.ts   (bench:ab bundles a .ts base first)
// It exports empty Durable Object classes under the gateway's names, so it binds where a build would.
import { DurableObject } from "cloudflare:workers";
import { forward } from "../../src/edge/proxy";
import { createCounters } from "../../src/lib/counters";
import { requestIdFor } from "../../src/lib/request-id";

const counters = createCounters();

export default {
  async fetch(request: Request, env: { ZAVU_API_BASE: string; ZAVU_API_KEY: string }): Promise<Response> {
    const requestId = requestIdFor(request);
    const response = await forward(request, new URL(request.url), {
      counters,
      upstreamBase: env.ZAVU_API_BASE,
      apiKey: env.ZAVU_API_KEY,
      requestId,
      timeoutMs: 10_000,
      maxBodyBytes: 65_536,
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
