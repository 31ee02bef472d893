import type { OpenAPIHono } from "@hono/zod-openapi";
import { listKeys } from "../../../tenants/lifecycle";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";

const route = adminRoute({
  method: "get",
  path: "/tenants/{id}/api-keys",
  summary: "The sub-account's Zavu keys (prefixes only)",
  request: { params: S.IdParam },
  responses: {
    200: json(S.ApiKeyListSchema, "Keys"),
    ...errors(
      "unauthorized",
      "not_found",
      "conflict",
      "invalid_state",
      "idempotency_in_progress",
      "upstream_error",
      "upstream_unavailable",
      "upstream_timeout",
    ),
  },
});

export function registerListApiKeys(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => c.json({ items: await listKeys(c.var.admin, c.req.valid("param").id) }, 200));
}
