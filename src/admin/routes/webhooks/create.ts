import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "../../../lib/zod";
import { createAlertWebhook } from "../../../tenants/alert-webhooks";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json, jsonBody } from "../common";
import { presentWebhook } from "./present";

const route = adminRoute({
  method: "post",
  path: "/webhooks",
  summary: "Register a webhook endpoint for alerts; its signing secret (whsec_…) is in this answer only",
  request: { body: jsonBody(S.CreateWebhookSchema) },
  responses: {
    201: json(z.object({ webhook: S.WebhookSchema }).openapi("WebhookCreated"), "The webhook, with its secret"),
    ...errors("invalid_request", "unauthorized", "conflict"),
  },
});

export function registerCreateWebhook(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const { webhook, secret } = await createAlertWebhook(c.env, c.var.admin, c.req.valid("json"));
    return c.json({ webhook: presentWebhook(webhook, secret) }, 201);
  });
}
