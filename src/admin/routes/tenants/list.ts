import type { OpenAPIHono } from "@hono/zod-openapi";
import { spendSnapshots } from "../../../tenants/lifecycle";
import { decodeCursor, encodeCursor, presentTenant } from "../../present";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";

const route = adminRoute({
  method: "get",
  path: "/tenants",
  summary: "List tenants (keyset pagination)",
  request: { query: S.ListQuery },
  responses: { 200: json(S.TenantList, "A page of tenants"), ...errors("invalid_request", "unauthorized") },
});

export function registerListTenants(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const rows = await c.var.admin.repo.list({
      limit: q.limit + 1,
      after: decodeCursor(q.cursor),
      status: q.status,
      externalId: q.externalId,
    });
    const page = rows.slice(0, q.limit);
    const spent = await spendSnapshots(
      c.var.admin,
      page.map((t) => t.id),
    );
    return c.json(
      {
        items: page.map((t, i) => presentTenant(t, spent[i] ?? null)),
        nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!.id) : null,
      },
      200,
    );
  });
}
