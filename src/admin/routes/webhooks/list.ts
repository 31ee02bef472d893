import type { OpenAPIHono } from "@hono/zod-openapi";
import { MAX_WEBHOOKS } from "../../../alerts/webhooks";
import * as z from "../../../lib/zod";
import { WebhookRepo } from "../../../storage/webhook-repo";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";
import { presentWebhook } from "./present";

const route = adminRoute({
  method: "get",
  path: "/webhooks",
  summary: "The registered webhook endpoints (never their secrets)",
  responses: {
    200: json(z.object({ items: z.array(S.WebhookSchema) }).openapi("WebhookList"), "Every live webhook"),
    ...errors("unauthorized"),
  },
});

export function registerListWebhooks(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const items = await new WebhookRepo(c.env.DB, c.var.state.counters).list(MAX_WEBHOOKS);
    return c.json({ items: items.map((w) => presentWebhook(w)) }, 200);
  });
}
