import type { OpenAPIHono } from "@hono/zod-openapi";
import { createTenant, provisionWithAlerts } from "../../../tenants/onboarding";
import { idempotent } from "../../idempotency";
import { presentTenant } from "../../present";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json, jsonBody } from "../common";

const route = adminRoute({
  method: "post",
  path: "/tenants",
  summary: "Onboard a customer: create its Zavu sub-account, store its key encrypted, register its identity provider",
  request: { body: jsonBody(S.CreateTenantSchema) },
  responses: {
    201: json(S.TenantEnvelope, "The active tenant"),
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
      "provisioning_incomplete",
      "upstream_timeout",
    ),
  },
});

export function registerCreateTenant(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.var.admin;
    const body = c.req.valid("json");
    const outcome = await idempotent(
      deps,
      "tenants.create",
      c.req.header("idempotency-key"),
      body,
      async (bind) => {
        const tenant = await createTenant(deps, body, bind);
        return { status: 201, body: { tenant: presentTenant(tenant, 0) } };
      },
      async (tenantId) => ({
        status: 201,
        body: { tenant: presentTenant(await provisionWithAlerts(deps, tenantId), 0) },
      }),
    );
    return c.json(
      outcome.body as never,
      outcome.status as 201,
      outcome.replayed ? { "idempotent-replayed": "true" } : {},
    );
  });
}
