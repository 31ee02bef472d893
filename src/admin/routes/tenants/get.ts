import type { OpenAPIHono } from "@hono/zod-openapi";
import { currentTotalSpent, loadTenant } from "../../../tenants/lifecycle";
import { presentTenant } from "../../present";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";

const route = adminRoute({
  method: "get",
  path: "/tenants/{id}",
  summary: "One tenant, with its upstream totalSpent",
  request: { params: S.IdParam },
  responses: { 200: json(S.TenantEnvelope, "The tenant"), ...errors("unauthorized", "not_found") },
});

export function registerGetTenant(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const tenant = await loadTenant(c.var.admin, c.req.valid("param").id);
    return c.json({ tenant: presentTenant(tenant, await currentTotalSpent(c.var.admin, tenant)) }, 200);
  });
}
