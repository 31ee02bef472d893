import type { OpenAPIHono } from "@hono/zod-openapi";
import { rotateKey } from "../../../tenants/lifecycle";
import { idempotent } from "../../idempotency";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";

const route = adminRoute({
  method: "post",
  path: "/tenants/{id}/rotate-key",
  summary: "Issue a new Zavu key for the tenant, store it encrypted, revoke the previous one",
  request: { params: S.IdParam },
  responses: {
    200: json(S.RotateResult, "The new key's id and prefix"),
    ...errors(
      "unauthorized",
      "not_found",
      "conflict",
      "invalid_state",
      "idempotency_in_progress",
      "idempotency_key_reused",
      "upstream_error",
      "upstream_unavailable",
      "upstream_timeout",
    ),
  },
});

export function registerRotateKey(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const id = c.req.valid("param").id;
    const outcome = await idempotent(
      c.var.admin,
      `tenants.rotate.${id}`,
      c.req.header("idempotency-key"),
      {},
      async () => ({
        status: 200,
        body: await rotateKey(c.var.admin, id),
      }),
    );
    return c.json(
      outcome.body as never,
      outcome.status as 200,
      outcome.replayed ? { "idempotent-replayed": "true" } : {},
    );
  });
}
