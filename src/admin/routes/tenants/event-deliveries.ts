import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "../../../lib/zod";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../../../relay/event-log";
import { replayTenantEvent, tenantEventDeliveries } from "../../../tenants/event-deliveries";
import * as S from "../../schemas";
import { type AdminEnv, adminRoute, errors, json } from "../common";

const DeliveryIdParam = S.IdParam.extend({
  deliveryId: z
    .string()
    .regex(/^edl_[0-9a-z]{26}$/, "not an event delivery id")
    .openapi({ param: { name: "deliveryId", in: "path" } }),
});

const list = adminRoute({
  method: "get",
  path: "/tenants/{id}/event-deliveries",
  summary: "Zavu's events for the tenant's senders and their delivery to the customer, newest first (kept 30 days)",
  request: {
    params: S.IdParam,
    query: z.object({
      status: z.enum(DELIVERY_STATUSES as [string, ...string[]]).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(50),
      cursor: z.string().max(20).optional(),
    }),
  },
  responses: {
    200: json(
      z
        .object({ items: z.array(S.EventDeliverySchema), nextCursor: z.string().nullable() })
        .openapi("EventDeliveryList"),
      "A page of event deliveries",
    ),
    ...errors("invalid_request", "unauthorized", "not_found"),
  },
});

const replay = adminRoute({
  method: "post",
  path: "/tenants/{id}/event-deliveries/{deliveryId}/replay",
  summary: "Deliver an event to the customer again now, with a fresh retry schedule (audited)",
  request: { params: DeliveryIdParam },
  responses: {
    200: json(z.object({ delivery: S.EventDeliverySchema }), "The delivery, pending again"),
    ...errors("unauthorized", "not_found"),
  },
});

export function registerEventDeliveries(app: OpenAPIHono<AdminEnv>) {
  app.openapi(list, async (c) => {
    const { status, limit, cursor } = c.req.valid("query");
    const query = { status: status as DeliveryStatus | undefined, limit, cursor };
    return c.json(await tenantEventDeliveries(c.var.admin, c.req.valid("param").id, query), 200);
  });

  app.openapi(replay, async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    return c.json({ delivery: await replayTenantEvent(c.var.admin, id, deliveryId) }, 200);
  });
}
