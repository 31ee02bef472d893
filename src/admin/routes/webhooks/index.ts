import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AdminEnv } from "../common";
import { registerCreateWebhook } from "./create";
import { registerDeleteWebhook } from "./delete";
import { registerListDeliveries } from "./deliveries";
import { registerListWebhooks } from "./list";
import { registerTestWebhook } from "./test";

/** The webhook endpoints (alerts), one file each. */
export function registerWebhookRoutes(app: OpenAPIHono<AdminEnv>) {
  registerCreateWebhook(app);
  registerListWebhooks(app);
  registerDeleteWebhook(app);
  registerListDeliveries(app);
  registerTestWebhook(app);
}
