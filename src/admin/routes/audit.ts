import type { OpenAPIHono } from "@hono/zod-openapi";
import { listAudit } from "../../storage/audit";
import { decodeCursor, encodeCursor } from "../present";
import * as S from "../schemas";
import { type AdminEnv, adminRoute, errors, json } from "./common";

const audit = adminRoute({
  method: "get",
  path: "/audit",
  summary: "Who did what, when, to which tenant (newest first; never secrets)",
  request: { query: S.AuditQuery },
  responses: { 200: json(S.AuditList, "Audit entries"), ...errors("invalid_request", "unauthorized") },
});

export function registerAuditRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(audit, async (c) => {
    const q = c.req.valid("query");
    const before = Number(decodeCursor(q.cursor)) || undefined;
    const rows = await listAudit(c.env.DB, c.var.state.counters, { tenantId: q.tenantId, limit: q.limit + 1, before });
    const page = rows.slice(0, q.limit);
    return c.json(
      { items: page, nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!.id) : null },
      200,
    );
  });
}
