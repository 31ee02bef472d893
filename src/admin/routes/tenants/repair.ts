import type { OpenAPIHono } from "@hono/zod-openapi";
import { currentTotalSpent, loadTenant } from "../../../tenants/lifecycle";
import { provisionWithAlerts } from "../../../tenants/onboarding";
import { idempotent } from "../../idempotency";
import { presentTenant } from "../../present";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";

const route = adminRoute({
  method: "post",
  path: "/tenants/{id}/repair",
  summary: "Finish a provisioning that was interrupted",
  request: { params: S.IdParam },
  responses: {
    200: json(S.TenantEnvelope, "The tenant, active"),
    ...errors("unauthorized", "not_found", "upstream_error", "upstream_unavailable", "provisioning_incomplete"),
  },
});

export function registerRepairTenant(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.var.admin;
    const id = c.req.valid("param").id;
    const outcome = await idempotent(deps, `tenants.repair.${id}`, c.req.header("idempotency-key"), {}, async () => {
      await loadTenant(deps, id);
      const tenant = await provisionWithAlerts(deps, id);
      return { status: 200, body: { tenant: presentTenant(tenant, await currentTotalSpent(deps, tenant)) } };
    });
    return c.json(outcome.body as never, outcome.status as 200);
  });
}
