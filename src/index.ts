import { createApp } from "./app";
import { handleEdge } from "./edge/handler";
import type { Env } from "./env";
import { RELAY_PREFIX } from "./lib/relay-address";
import { runMaintenance } from "./maintenance/runner";
import { handleRelay } from "./relay/receive";
import { createIsolateState, type IsolateState } from "./state";

export { WebhookDispatcher } from "./alerts/dispatcher";
export { ControlPlane } from "./control/control-plane";
export { TenantEvents } from "./relay/tenant-events";
export { SpendLedger } from "./spend/spend-ledger";
export { UsageShard } from "./usage/shard";

/**
 * The gateway over one isolate state. Customer traffic (/v1/*) goes straight to the edge handler:
 * the hot path does not pay for the admin API's router and middleware (measured: about 10% of
 * throughput). Everything else is the Hono app. Tests build their own with a fresh state.
 */
export function createGateway(state: IsolateState) {
  const app = createApp(state);
  return {
    fetch(request: Request, env: Env, ctx: ExecutionContext) {
      const path = request.url.slice(request.url.indexOf("/", 8));
      if (path.startsWith("/v1/")) return handleEdge(request, env, ctx, state);
      if (path.startsWith(RELAY_PREFIX)) return handleRelay(request, env, state);
      return app.fetch(request, env, ctx);
    },

    /** The cron trigger (wrangler.toml): one bounded maintenance run that resumes where the last stopped. */
    async scheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext) {
      await runMaintenance(env, state, { trigger: "cron", now: controller.scheduledTime });
    },
  } satisfies ExportedHandler<Env>;
}

/** One state per isolate: this module is evaluated once per isolate. */
export default createGateway(createIsolateState());
