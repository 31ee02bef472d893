import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { apiError } from "../errors";
import { tenantContext } from "../tenants/context";
import { VERSION } from "../version";
import { adminAuth } from "./auth";
import { docsPage } from "./docs-page";
import { logAdminCall } from "./log";
import { registerAuditRoutes } from "./routes/audit";
import { type AdminEnv, REQUIRED_ROLE } from "./routes/common";
import { registerMaintenanceRoutes } from "./routes/maintenance";
import { registerOnboardingLinkRoutes } from "./routes/onboarding-links";
import { registerStatsRoutes } from "./routes/stats";
import { registerTeamRoutes } from "./routes/team";
import { registerTeamAccessRoutes } from "./routes/team-access";
import { registerTenantRoutes } from "./routes/tenants";
import { registerUsageRoutes } from "./routes/usage";
import { registerWebhookRoutes } from "./routes/webhooks";

/** Public routes (the API's description); every other route must state the role it needs. */
export const PUBLIC_ADMIN_ROUTES = ["GET /openapi.json", "GET /docs"];

/** Fails closed: an app with a route defined outside adminRoute (no role, no check) is never built. */
function assertEveryRouteHasARole(app: OpenAPIHono<AdminEnv>) {
  const documented = new Set<string>();
  for (const d of app.openAPIRegistry.definitions) {
    if (d.type === "route" && (d.route as Record<string, unknown>)[REQUIRED_ROLE])
      documented.add(`${d.route.method.toUpperCase()} ${d.route.path.replaceAll(/\{(.+?)\}/g, ":$1")}`);
  }
  for (const r of app.routes) {
    if (r.method === "ALL") continue;
    const key = `${r.method} ${r.path}`;
    if (!documented.has(key) && !PUBLIC_ADMIN_ROUTES.includes(key))
      throw new Error(`admin route ${key} has no role: define it with adminRoute (src/admin/routes/common.ts)`);
  }
}

/** The reseller admin API, mounted at /admin/v1. */
export function createAdminApp(): OpenAPIHono<AdminEnv> {
  const app = new OpenAPIHono<AdminEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const details = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
        const first = details[0];
        throw apiError(
          "invalid_request",
          first ? `${first.path || "body"}: ${first.message}` : "Invalid request.",
          details,
        );
      }
    },
  });

  app.use(
    bodyLimit({
      maxSize: 64 * 1024,
      onError: () => {
        throw apiError("payload_too_large", "Admin request bodies are limited to 64 KiB.");
      },
    }),
  );

  app.use(logAdminCall);
  // Answers are for the caller alone: not readable by another site's page, not sniffed, not cached.
  app.use(async (c, next) => {
    await next();
    c.res.headers.set("x-content-type-options", "nosniff");
    c.res.headers.set("cross-origin-resource-policy", "same-origin");
    if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "no-store");
  });

  // Public: the API's own description. Registered before the authentication, which guards every route after it.
  app.openAPIRegistry.registerComponent("securitySchemes", "AdminToken", { type: "http", scheme: "bearer" });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Zavu reseller gateway: admin API",
      version: VERSION,
      description:
        "Onboard customers as Zavu sub-accounts and manage their lifecycle. Authenticate with `Authorization: Bearer <key>`: an admin API key (`zgk_…`, with its role) or `ADMIN_TOKEN` (role admin); behind Cloudflare Access, a person's `Cf-Access-Jwt-Assertion`. Each operation states the role it needs (`x-required-role`): viewer < operator < admin. A call beyond the caller's role is answered 403 `forbidden`.",
    },
    servers: [{ url: "/admin/v1" }],
    security: [{ AdminToken: [] }],
  });
  app.get("/docs", () => docsPage("/admin/v1/openapi.json", "Zavu gateway admin API"));

  app.use(adminAuth({ actorHeader: "x-admin-actor" }));
  app.use(async (c, next) => {
    c.set("admin", tenantContext(c.env, c.var.state, c.var.requestId, c.var.actor!));
    await next();
  });

  registerTenantRoutes(app);
  registerAuditRoutes(app);
  registerStatsRoutes(app);
  registerOnboardingLinkRoutes(app);
  registerTeamRoutes(app);
  registerUsageRoutes(app);
  registerWebhookRoutes(app);
  registerMaintenanceRoutes(app);
  registerTeamAccessRoutes(app);
  assertEveryRouteHasARole(app);

  return app;
}
