import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "../../../lib/zod";
import { testAlertWebhook } from "../../../tenants/alert-webhooks";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";
import { presentDelivery } from "./present";

const route = adminRoute({
  method: "post",
  path: "/webhooks/{id}/test",
  summary: "Send a webhook.test event to this endpoint now; answers with the delivery after its first attempt",
  request: { params: S.WebhookIdParam },
  responses: {
    200: json(z.object({ delivery: S.DeliverySchema }).openapi("WebhookTest"), "The test delivery"),
    ...errors("unauthorized", "not_found"),
  },
});

export function registerTestWebhook(app: OpenAPIHono<AdminEnv>) {
  app.openapi(route, async (c) => {
    const delivery = await testAlertWebhook(c.env, c.var.admin, c.req.valid("param").id);
    return c.json({ delivery: presentDelivery(delivery) }, 200);
  });
}
