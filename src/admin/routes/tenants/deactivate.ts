import type { OpenAPIHono } from "@hono/zod-openapi";
import { deactivateTenant } from "../../../tenants/lifecycle";
import { presentTenant } from "../../present";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";

const route = adminRoute({
  method: "delete",
  path: "/tenants/{id}",
  summary: "Deactivate: Zavu revokes every key, the stored ciphertext is erased, the record stays",
  request: { params: S.IdParam },
  responses: {
    200: json(S.DeleteResult, "The deactivated tenant"),
    ...errors(
      "unauthorized",
      "not_found",
      "operation_in_progress",
      "upstream_error",
      "upstream_unavailable",
      "upstream_timeout",
    ),
  },
});

export function registerDeactivateTenant(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const { tenant, keysRevoked } = await deactivateTenant(c.var.admin, c.req.valid("param").id);
    return c.json({ tenant: presentTenant(tenant, null), keysRevoked }, 200);
  });
}
