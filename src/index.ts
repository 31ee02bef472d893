import { createApp } from "./app";
import { handleEdge } from "./edge/handler";
import type { Env } from "./env";

const app = createApp();

/**
 * Customer traffic (/v1/*) goes straight to the edge handler: the hot path does not pay for
 * the admin API's router and middleware (measured: about 10% of throughput). Everything else
 * is the Hono app.
 */
export default {
  fetch(request, env, ctx) {
    const path = request.url.slice(request.url.indexOf("/", 8));
    if (path.startsWith("/v1/")) return handleEdge(request, env, ctx);
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
