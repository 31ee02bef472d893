import type { OpenAPIHono } from "@hono/zod-openapi";
import { currentTotalSpent } from "../../../tenants/lifecycle";
import { importTenant } from "../../../tenants/onboarding";
import { idempotent } from "../../idempotency";
import { presentTenant } from "../../present";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json, jsonBody } from "../common";

const route = adminRoute({
  method: "post",
  path: "/tenants/import",
  summary: "Adopt an existing Zavu sub-account (id and key)",
  request: { body: jsonBody(S.ImportTenantSchema) },
  responses: {
    201: json(S.TenantEnvelope, "The imported tenant"),
    ...errors(
      "invalid_request",
      "invalid_identity",
      "unauthorized",
      "conflict",
      "invalid_state",
      "idempotency_in_progress",
      "idempotency_key_reused",
      "upstream_error",
      "upstream_unavailable",
    ),
  },
});

export function registerImportTenant(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.var.admin;
    const body = c.req.valid("json");
    const outcome = await idempotent(deps, "tenants.import", c.req.header("idempotency-key"), body, async () => {
      const tenant = await importTenant(deps, body);
      return { status: 201, body: { tenant: presentTenant(tenant, await currentTotalSpent(deps, tenant)) } };
    });
    return c.json(
      outcome.body as never,
      outcome.status as 201,
      outcome.replayed ? { "idempotent-replayed": "true" } : {},
    );
  });
}
