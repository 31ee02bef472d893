import { createShellApp, type GatewayApp } from "./app-shell";
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
 * throughput). Zavu's events go straight to the relay. GET /healthz is answered by the app's shell
 * alone (app-shell.ts). Everything else is the Hono app (app.ts: the admin API and its OpenAPI
 * registry, the console, the portal), which is loaded and built on the first request that needs it:
 * an isolate that only serves the edge never evaluates it (the dynamic import stays in the one bundle,
 * as a module evaluated on first use). Tests build their own with a fresh state.
 */
export function createGateway(state: IsolateState) {
  let shell: GatewayApp | undefined;
  let app: Promise<GatewayApp> | undefined;
  const fullApp = () => {
    // A failed load is not kept: the next request tries again instead of failing for the isolate's life.
    app ??= import("./app")
      .then(({ createApp }) => createApp(state))
      .catch((err) => {
        app = undefined;
        throw err;
      });
    return app;
  };
  return {
    fetch(request: Request, env: Env, ctx: ExecutionContext) {
      const path = request.url.slice(request.url.indexOf("/", 8));
      if (path.startsWith("/v1/")) return handleEdge(request, env, ctx, state);
      if (path.startsWith(RELAY_PREFIX)) return handleRelay(request, env, state);
      // The shell answers /healthz exactly as the whole app would: the app adds nothing on that path.
      if (path === "/healthz" || path.startsWith("/healthz?")) {
        shell ??= createShellApp(state);
        return shell.fetch(request, env, ctx);
      }
      return fullApp().then((built) => built.fetch(request, env, ctx));
    },

    /** The cron trigger (wrangler.toml): one bounded maintenance run that resumes where the last stopped. */
    async scheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext) {
      await runMaintenance(env, state, { trigger: "cron", now: controller.scheduledTime });
    },
  } satisfies ExportedHandler<Env>;
}

/** One state per isolate: this module is evaluated once per isolate. */
export default createGateway(createIsolateState());
