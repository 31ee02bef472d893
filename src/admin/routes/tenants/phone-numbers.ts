import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "../../../lib/zod";
import { listPhoneNumbers, purchasePhoneNumber, releasePhoneNumber } from "../../../tenants/phone-numbers";
import { idempotent } from "../../idempotency";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json, jsonBody } from "../common";

const UPSTREAM = ["upstream_error", "upstream_unavailable", "upstream_timeout"] as const;

const list = adminRoute({
  method: "get",
  path: "/tenants/{id}/phone-numbers",
  summary: "The phone numbers the tenant's sub-account owns (up to 100 a page)",
  request: { params: S.IdParam, query: S.PhoneNumberListQuery },
  responses: {
    200: json(S.PhoneNumberList, "Numbers"),
    ...errors("invalid_request", "unauthorized", "not_found", "invalid_state", ...UPSTREAM),
  },
});

const purchase = adminRoute({
  method: "post",
  path: "/tenants/{id}/phone-numbers",
  summary: "Buy a phone number for the tenant, with its own key: charged to its sub-account (audited)",
  request: { params: S.IdParam, body: jsonBody(S.PurchasePhoneNumber) },
  responses: {
    201: json(z.object({ phoneNumber: S.PhoneNumberSchema }).openapi("PhoneNumberPurchased"), "The number bought"),
    ...errors(
      "invalid_request",
      "unauthorized",
      "credit_limit_reached",
      "insufficient_balance",
      "not_found",
      "invalid_state",
      "idempotency_in_progress",
      "idempotency_key_reused",
      ...UPSTREAM,
    ),
  },
});

const release = adminRoute({
  method: "delete",
  path: "/tenants/{id}/phone-numbers/{numberId}",
  summary: "Release one of the tenant's phone numbers (audited)",
  request: { params: S.PhoneNumberParams },
  responses: {
    204: { description: "Released" },
    ...errors("invalid_request", "unauthorized", "not_found", "invalid_state", ...UPSTREAM),
  },
});

export function registerTenantPhoneNumbers(app: OpenAPIHono<AdminEnv>) {
  app.openapi(list, async (c) =>
    c.json(await listPhoneNumbers(c.var.admin, c.req.valid("param").id, c.req.valid("query").cursor), 200),
  );

  app.openapi(purchase, async (c) => {
    const id = c.req.valid("param").id;
    const body = c.req.valid("json");
    const outcome = await idempotent(
      c.var.admin,
      `tenants.phone-numbers.purchase.${id}`,
      c.req.header("idempotency-key"),
      body,
      async () => ({ status: 201, body: { phoneNumber: await purchasePhoneNumber(c.var.admin, id, body) } }),
    );
    return c.json(
      outcome.body as never,
      outcome.status as 201,
      outcome.replayed ? { "idempotent-replayed": "true" } : {},
    );
  });

  app.openapi(release, async (c) => {
    const { id, numberId } = c.req.valid("param");
    await releasePhoneNumber(c.var.admin, id, numberId);
    return c.body(null, 204);
  });
}
