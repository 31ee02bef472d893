import type { OpenAPIHono } from "@hono/zod-openapi";
import { apiError } from "../../../errors";
import * as z from "../../../lib/zod";
import { loadTenant } from "../../../tenants/lifecycle";
import { MAX_USAGE_DAYS, tenantUsage, usagePeriod } from "../../../usage/reports";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";

const Reconciliation = z
  .object({
    at: z.string(),
    zavuCents: z.number().int().openapi({ description: "Zavu's totalSpent since usage records began" }),
    countedCents: z.number().int().openapi({ description: "What the usage records held" }),
    driftCents: z.number().int().openapi({ description: "zavuCents - countedCents, added to the records" }),
    estimatedCents: z.number().int().openapi({ description: "Estimates it replaced" }),
  })
  .openapi("UsageReconciliation");

const route = adminRoute({
  method: "get",
  path: "/tenants/{id}/usage",
  summary:
    "The tenant's usage per UTC day and channel: sends, refusals by code, delivery outcomes, cost (default: the last 31 days)",
  request: { params: S.IdParam, query: S.UsageQuery },
  responses: {
    200: json(
      z
        .object({ items: z.array(S.UsageItem), totals: S.UsageTotals, reconciliations: z.array(Reconciliation) })
        .openapi("TenantUsage"),
      "Usage records, oldest first, their totals over the period, and the latest reconciliations with Zavu",
    ),
    ...errors("invalid_request", "unauthorized", "not_found"),
  },
});

export function registerTenantUsage(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const tenant = await loadTenant(c.var.admin, c.req.valid("param").id);
    const q = c.req.valid("query");
    const { from, to, valid } = usagePeriod(q.from, q.to);
    if (!valid) {
      throw apiError("invalid_request", `from must be a date on or before to, at most ${MAX_USAGE_DAYS} days apart.`);
    }
    const { records, totals, reconciliations } = await tenantUsage(c.env, c.var.state.counters, tenant.id, from, to);
    return c.json(
      {
        items: records.map((r) => ({
          date: r.date,
          channel: r.channel,
          sends: r.sends,
          refusals: r.refusals,
          costCents: r.costCents,
          estimated: r.estimatedCents !== 0,
          estimatedCents: r.estimatedCents,
          correctedCents: r.correctedCents,
          delivered: r.delivered,
          failed: r.failed,
        })),
        totals,
        reconciliations: reconciliations.map((r) => ({
          at: new Date(r.at).toISOString(),
          zavuCents: r.zavuCents,
          countedCents: r.countedCents,
          driftCents: r.driftCents,
          estimatedCents: r.estimatedCents,
        })),
      },
      200,
    );
  });
}
