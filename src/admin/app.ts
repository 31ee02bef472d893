import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { apiError } from "../errors";
import { VERSION } from "../version";
import { authenticateAdmin } from "./auth";
import { adminDeps } from "./deps";
import { docsPage } from "./docs-page";
import { logAdminCall } from "./log";
import { registerAuditRoutes } from "./routes/audit";
import type { AdminEnv } from "./routes/common";
import { registerOnboardingLinkRoutes } from "./routes/onboarding-links";
import { registerStatsRoutes } from "./routes/stats";
import { registerTeamRoutes } from "./routes/team";
import { registerTenantRoutes } from "./routes/tenants";

const PUBLIC = new Set(["/admin/v1/openapi.json", "/admin/v1/docs"]);

/** Adds routes to the admin app (behind its auth, in its OpenAPI document) from a feature folder above admin/. */
export type AdminRoutes = (app: OpenAPIHono<AdminEnv>) => void;

/** The reseller admin API, mounted at /admin/v1. */
export function createAdminApp(extensions: AdminRoutes[] = []): OpenAPIHono<AdminEnv> {
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

  app.use(async (c, next) => {
    if (PUBLIC.has(c.req.path)) return next();
    const actor = await authenticateAdmin(
      c.req.header("authorization"),
      c.env.ADMIN_TOKEN ?? "",
      c.req.header("x-admin-actor"),
    );
    c.set("admin", adminDeps(c.env, c.var.state, c.var.requestId, actor));
    await next();
  });

  registerTenantRoutes(app);
  registerAuditRoutes(app);
  registerStatsRoutes(app);
  registerOnboardingLinkRoutes(app);
  registerTeamRoutes(app);
  for (const register of extensions) register(app);

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
  return app;
}
