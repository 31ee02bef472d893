import type { OpenAPIHono } from "@hono/zod-openapi";
import { currentTotalSpent, updateTenant } from "../../../tenants/lifecycle";
import { presentTenant } from "../../present";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json, jsonBody } from "../common";

const route = adminRoute({
  method: "patch",
  path: "/tenants/{id}",
  summary: "Change name, externalId, creditLimit, metadata or status (mirrored to Zavu)",
  request: { params: S.IdParam, body: jsonBody(S.UpdateTenantSchema) },
  responses: {
    200: json(S.TenantEnvelope, "The updated tenant"),
    ...errors(
      "invalid_request",
      "unauthorized",
      "not_found",
      "conflict",
      "invalid_state",
      "idempotency_in_progress",
      "upstream_error",
      "upstream_unavailable",
      "upstream_timeout",
      "change_incomplete",
    ),
  },
});

export function registerUpdateTenant(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const tenant = await updateTenant(c.var.admin, c.req.valid("param").id, c.req.valid("json"));
    return c.json({ tenant: presentTenant(tenant, await currentTotalSpent(c.var.admin, tenant)) }, 200);
  });
}
