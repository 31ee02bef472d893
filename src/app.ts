import { createAdminApp } from "./admin/app";
import { createShellApp, type GatewayApp } from "./app-shell";
import { createConsoleApp } from "./console/app";
import { createPortalApp } from "./portal/app";
import type { IsolateState } from "./state";
import { requireSameOrigin } from "./team/same-origin";

/** Health and the reseller admin API. (The customer edge is dispatched before Hono: see index.ts.) */
export function createApp(state: IsolateState): GatewayApp {
  return createShellApp(state, (app) => {
    // Before any authentication: a cross-site change is refused whoever it claims to be (team/same-origin.ts).
    for (const prefix of ["/admin/v1/*", "/console/*"]) {
      app.use(prefix, async (c, next) => {
        requireSameOrigin(c.req.raw);
        await next();
      });
    }

    app.route("/admin/v1", createAdminApp());
    app.route("/onboard", createPortalApp());
    app.route("/console", createConsoleApp());
  });
}
