import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { apiError } from "../../errors";
import { prepareIdentity } from "../../identity/register";
import { idempotent } from "../idempotency";
import { currentTotalSpent, listKeys, loadTenant, replaceIdentity, rotateKey, tenantBalance } from "../lifecycle";
import { presentTenant } from "../present";
import * as S from "../schemas";
import { type AdminEnv, errors, json } from "./common";

const putIdentity = createRoute({
  method: "put",
  path: "/tenants/{id}/identity",
  summary: "Replace how the tenant's identity provider signs its JWTs",
  request: { params: S.IdParam, body: json(S.IdentityInputSchema) },
  responses: {
    200: json(S.TenantEnvelope, "The tenant with its new identity"),
    ...errors("invalid_request", "unauthorized", "not_found", "conflict", "invalid_state", "idempotency_in_progress"),
  },
});

const balance = createRoute({
  method: "get",
  path: "/tenants/{id}/balance",
  summary: "The tenant's balance from Zavu (also refreshes the edge's cache)",
  request: { params: S.IdParam },
  responses: {
    200: json(S.BalanceSchema, "Balance in cents"),
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

const keys = createRoute({
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

const rotate = createRoute({
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

export function registerTenantOpsRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(putIdentity, async (c) => {
    const deps = c.var.admin;
    const identity = await prepareIdentity(c.req.valid("json"), { allowHttpJwks: deps.allowHttpJwks });
    const tenant = await replaceIdentity(deps, c.req.valid("param").id, identity);
    return c.json({ tenant: presentTenant(tenant, await currentTotalSpent(deps, tenant)) }, 200);
  });

  app.openapi(balance, async (c) => {
    const tenant = await loadTenant(c.var.admin, c.req.valid("param").id);
    if (!tenant.subAccountId || tenant.status === "deactivated" || tenant.status === "provisioning") {
      throw apiError("invalid_state", `This tenant is ${tenant.status}.`);
    }
    const b = await tenantBalance(c.var.admin, tenant);
    return c.json(
      { balance: b.balance, currency: b.currency, creditLimit: b.creditLimit ?? null, totalSpent: b.totalSpent ?? 0 },
      200,
    );
  });

  app.openapi(keys, async (c) => c.json({ items: await listKeys(c.var.admin, c.req.valid("param").id) }, 200));

  app.openapi(rotate, async (c) => {
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
