import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { listEventDeliveries, replayEventDelivery } from "../../../relay/deliveries";
import { DELIVERY_STATUSES } from "../../../relay/event-log";
import { audit } from "../../../tenants/context";
import { loadTenant } from "../../../tenants/lifecycle";
import * as S from "../../schemas";
import { type AdminEnv, errors, json } from "../common";

const DeliveryIdParam = S.IdParam.extend({
  deliveryId: z
    .string()
    .regex(/^edl_[0-9a-z]{26}$/, "not an event delivery id")
    .openapi({ param: { name: "deliveryId", in: "path" } }),
});

const list = createRoute({
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

const replay = createRoute({
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
    const tenant = await loadTenant(c.var.admin, c.req.valid("param").id);
    const { status, limit, cursor } = c.req.valid("query");
    const page = await listEventDeliveries(c.env, tenant.id, {
      status: status as (typeof DELIVERY_STATUSES)[number] | undefined,
      limit,
      cursor,
    });
    return c.json(page, 200);
  });

  app.openapi(replay, async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    const tenant = await loadTenant(c.var.admin, id);
    const delivery = await replayEventDelivery(c.env, tenant.id, deliveryId);
    await c.var.admin.repo.batch([audit(c.var.admin, "event_delivery.replay", tenant.id, { deliveryId })]);
    return c.json({ delivery }, 200);
  });
}
