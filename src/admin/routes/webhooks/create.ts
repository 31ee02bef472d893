import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { registerWebhook } from "../../../alerts/webhooks";
import { audit } from "../../../tenants/context";
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
    const { webhook, secret } = await registerWebhook(c.env, c.var.state.counters, c.req.valid("json"));
    await c.var.admin.repo.batch([
      audit(c.var.admin, "webhook.create", null, {
        webhookId: webhook.id,
        name: webhook.name,
        url: webhook.url,
        events: webhook.events,
      }),
    ]);
    return c.json({ webhook: presentWebhook(webhook, secret) }, 201);
  });
}
