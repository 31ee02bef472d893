import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { apiError } from "../errors";
import { tenantContext } from "../tenants/context";
import { VERSION } from "../version";
import { adminAuth } from "./auth";
import { docsPage } from "./docs-page";
import { logAdminCall } from "./log";
import { registerAuditRoutes } from "./routes/audit";
import type { AdminEnv } from "./routes/common";
import { registerMaintenanceRoutes } from "./routes/maintenance";
import { registerOnboardingLinkRoutes } from "./routes/onboarding-links";
import { registerStatsRoutes } from "./routes/stats";
import { registerTeamRoutes } from "./routes/team";
import { registerTenantRoutes } from "./routes/tenants";
import { registerUsageRoutes } from "./routes/usage";
import { registerWebhookRoutes } from "./routes/webhooks";

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

  // Public: the API's own description. Registered before the authentication, which guards every route after it.
  app.openAPIRegistry.registerComponent("securitySchemes", "AdminToken", { type: "http", scheme: "bearer" });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Zavu reseller gateway: admin API",
      version: VERSION,
      description:
        "Onboard customers as Zavu sub-accounts and manage their lifecycle. Authenticate with `Authorization: Bearer <ADMIN_TOKEN>`.",
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

  return app;
}
