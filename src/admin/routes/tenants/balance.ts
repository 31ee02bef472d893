import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiError } from "../../../errors";
import { loadTenant, tenantBalance } from "../../../tenants/lifecycle";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";

const route = adminRoute({
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

export function registerTenantBalance(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const tenant = await loadTenant(c.var.admin, c.req.valid("param").id);
    if (!tenant.subAccountId || tenant.status === "deactivated" || tenant.status === "provisioning") {
      throw apiError("invalid_state", `This tenant is ${tenant.status}.`);
    }
    const b = await tenantBalance(c.var.admin, tenant);
    const subject = { kind: "tenant", tenantId: tenant.id, subAccountId: tenant.subAccountId } as const;
    const ledger = tenant.creditLimit
      ? await c.var.admin
          .ledger(subject)
          .snapshot(subject, true)
          .catch(() => null)
      : null;
    return c.json(
      {
        balance: b.balance,
        currency: b.currency,
        creditLimit: b.creditLimit ?? null,
        totalSpent: b.totalSpent ?? 0,
        ledger: ledger && { available: ledger.available, estimate: ledger.estimate, refreshedAt: ledger.refreshedAt },
      },
      200,
    );
  });
}
