import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "../../lib/zod";
import { monthlyCsv, monthlyUsage } from "../../usage/reports";
import * as S from "../schemas";
import { type AdminEnv, adminRoute, errors } from "./common";

const MonthlyItem = z
  .object({
    tenantId: z.string(),
    name: z.string().nullable(),
    externalId: z.string().nullable(),
    channel: z.string(),
    sends: z.number().int(),
    refusals: z.record(z.string(), z.number().int()),
    costCents: z.number().int(),
    estimated: z.boolean(),
    delivered: z.number().int().openapi({ description: "Zavu's message.delivered events that month" }),
    failed: z.number().int().openapi({ description: "Zavu's message.failed events that month" }),
  })
  .openapi("MonthlyUsageRow");

const route = adminRoute({
  method: "get",
  path: "/usage",
  summary: "Every tenant's usage in a month, one row per tenant and channel (for an invoice run): JSON or CSV",
  request: { query: S.MonthlyQuery },
  responses: {
    200: {
      description: "The month's usage",
      content: {
        "application/json": {
          schema: z.object({ month: z.string(), items: z.array(MonthlyItem) }).openapi("MonthlyUsage"),
        },
        "text/csv": { schema: z.string().openapi({ description: "UTF-8 with a byte-order mark, CRLF, RFC 4180" }) },
      },
    },
    ...errors("invalid_request", "unauthorized"),
  },
});

export function registerUsageRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const { month, format } = c.req.valid("query");
    const rows = await monthlyUsage(c.env, c.var.state.counters, month);
    const items = rows.map((r) => ({
      tenantId: r.tenantId,
      name: r.name,
      externalId: r.externalId,
      channel: r.channel,
      sends: r.sends,
      refusals: r.refusals,
      costCents: r.costCents,
      estimated: r.estimatedCents !== 0,
      delivered: r.delivered,
      failed: r.failed,
    }));
    if (format === "json") return c.json({ month, items }, 200);
    const csv = monthlyCsv(month, rows);
    return c.body(csv, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="usage-${month}.csv"`,
    }) as never;
  });
}
