import type { OpenAPIHono } from "@hono/zod-openapi";
import { liveWebhook } from "../../../alerts/webhooks";
import * as z from "../../../lib/zod";
import { WebhookRepo } from "../../../storage/webhook-repo";
import { decodeCursor, encodeCursor } from "../../present";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";
import { presentDelivery } from "./present";

const route = adminRoute({
  method: "get",
  path: "/webhooks/{id}/deliveries",
  summary: "A webhook's deliveries and their outcomes, newest first (kept 30 days)",
  request: {
    params: S.WebhookIdParam,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(50),
      cursor: z.string().max(200).optional(),
    }),
  },
  responses: {
    200: json(
      z.object({ items: z.array(S.DeliverySchema), nextCursor: z.string().nullable() }).openapi("WebhookDeliveryList"),
      "A page of deliveries",
    ),
    ...errors("invalid_request", "unauthorized", "not_found"),
  },
});

export function registerListDeliveries(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const repo = new WebhookRepo(c.env.DB, c.var.state.counters);
    const webhook = await liveWebhook(repo, c.req.valid("param").id);
    const [at, id] = (decodeCursor(cursor) ?? "").split(" ");
    const before = at && id ? { at: Number(at), id } : undefined;
    const rows = await repo.deliveries(webhook.id, { limit: limit + 1, before });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return c.json(
      {
        items: page.map(presentDelivery),
        nextCursor: rows.length > limit && last ? encodeCursor(`${last.createdAt} ${last.id}`) : null,
      },
      200,
    );
  });
}
