import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { UsageRepo } from "../../storage/usage-repo";
import { toCsv } from "../../usage/csv";
import { flushShards } from "../../usage/shards";
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

const CSV_HEADER = [
  "tenant_id",
  "name",
  "external_id",
  "month",
  "channel",
  "sends",
  "refusals",
  "refusals_by_code",
  "cost_cents",
  "cost_usd",
  "estimated",
  // Added after the others, so a sheet that reads columns by position keeps working.
  "delivered",
  "failed",
];

export function registerUsageRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const { month, format } = c.req.valid("query");
    const [year, m] = month.split("-").map(Number) as [number, number];
    const next = m === 12 ? `${year + 1}-01` : `${year}-${String(m + 1).padStart(2, "0")}`;
    await flushShards(c.env, c.var.state.counters);
    const rows = await new UsageRepo(c.env.DB, c.var.state.counters).monthly(`${month}-01`, `${next}-01`);
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
    const csv = toCsv(
      CSV_HEADER,
      items.map((r) => [
        r.tenantId,
        r.name,
        r.externalId,
        month,
        r.channel,
        r.sends,
        Object.values(r.refusals).reduce((a, b) => a + b, 0),
        Object.entries(r.refusals)
          .map(([code, n]) => `${code}=${n}`)
          .join("; "),
        r.costCents,
        (r.costCents / 100).toFixed(2),
        r.estimated,
        r.delivered,
        r.failed,
      ]),
    );
    return c.body(csv, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="usage-${month}.csv"`,
    }) as never;
  });
}
