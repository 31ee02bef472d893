import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { apiError } from "../../../errors";
import { UsageRepo } from "../../../storage/usage-repo";
import { loadTenant } from "../../../tenants/lifecycle";
import { utcDay } from "../../../usage/rows";
import { flushShards } from "../../../usage/shards";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";

const MAX_DAYS = 366;

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
    const to = q.to ?? utcDay(Date.now()).date;
    const from = q.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 30 * 86_400_000).toISOString().slice(0, 10);
    const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
    if (!(days >= 0 && days < MAX_DAYS)) {
      throw apiError("invalid_request", `from must be a date on or before to, at most ${MAX_DAYS} days apart.`);
    }
    await flushShards(c.env, c.var.state.counters);
    const repo = new UsageRepo(c.env.DB, c.var.state.counters);
    const [records, reconciliations] = await Promise.all([
      repo.forTenant(tenant.id, from, to),
      repo.reconciliations(tenant.id),
    ]);
    const totals = { sends: 0, refusals: 0, delivered: 0, failed: 0, costCents: 0 };
    for (const r of records) {
      totals.sends += r.sends;
      for (const n of Object.values(r.refusals)) totals.refusals += n;
      totals.delivered += r.delivered;
      totals.failed += r.failed;
      totals.costCents += r.costCents;
    }
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
