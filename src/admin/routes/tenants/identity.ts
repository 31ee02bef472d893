import type { OpenAPIHono } from "@hono/zod-openapi";
import { checkIdentity } from "../../../identity/register";
import { currentTotalSpent, replaceIdentity } from "../../../tenants/lifecycle";
import { presentTenant } from "../../present";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json, jsonBody } from "../common";

const route = adminRoute({
  method: "put",
  path: "/tenants/{id}/identity",
  summary: "Replace how the tenant's identity provider signs its JWTs",
  request: { params: S.IdParam, body: jsonBody(S.IdentityInputSchema) },
  responses: {
    200: json(S.TenantEnvelope, "The tenant with its new identity"),
    ...errors(
      "invalid_request",
      "invalid_identity",
      "unauthorized",
      "not_found",
      "conflict",
      "invalid_state",
      "idempotency_in_progress",
      "operation_in_progress",
    ),
  },
});

export function registerReplaceIdentity(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.var.admin;
    const { identity } = await checkIdentity(c.req.valid("json"), { allowHttpJwks: deps.allowHttpJwks });
    const tenant = await replaceIdentity(deps, c.req.valid("param").id, identity);
    return c.json({ tenant: presentTenant(tenant, await currentTotalSpent(deps, tenant)) }, 200);
  });
}
