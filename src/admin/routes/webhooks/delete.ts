import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "../../../lib/zod";
import { deleteAlertWebhook } from "../../../tenants/alert-webhooks";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";
import { presentWebhook } from "./present";

const route = adminRoute({
  method: "delete",
  path: "/webhooks/{id}",
  summary: "Delete a webhook: nothing more is sent to it (deliveries still pending are cancelled)",
  request: { params: S.WebhookIdParam },
  responses: {
    200: json(z.object({ webhook: S.WebhookSchema }).openapi("WebhookDeleted"), "The deleted webhook"),
    ...errors("unauthorized", "not_found"),
  },
});

export function registerDeleteWebhook(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const webhook = await deleteAlertWebhook(c.env, c.var.admin, c.req.valid("param").id);
    return c.json({ webhook: presentWebhook(webhook) }, 200);
  });
}
