import type { Env } from "../env";
import { apiError } from "../errors";
import { tenantEvents } from "./binding";
import type { DeliveryStatus, EventDelivery } from "./event-log";

export interface DeliveryQuery {
  status?: DeliveryStatus;
  limit: number;
  cursor?: string;
}

/**
 * A tenant's event deliveries, newest first, as its relay keeps them (30 days). The tenant must exist:
 * callers check (the admin API reads it first).
 */
export async function listEventDeliveries(
  env: Env,
  tenantId: string,
  opts: DeliveryQuery,
): Promise<{ items: EventDelivery[]; nextCursor: string | null }> {
  const page = await tenantEvents(env, tenantId).list(opts);
  if (!page) throw apiError("invalid_request", "cursor is not valid.");
  return page;
}

/** Attempts a delivery again now (with a fresh retry schedule), whatever its state. */
export async function replayEventDelivery(env: Env, tenantId: string, deliveryId: string): Promise<EventDelivery> {
  const delivery = await tenantEvents(env, tenantId).replay(deliveryId);
  if (!delivery) throw apiError("not_found", "No such event delivery for this tenant.");
  return delivery;
}

/** The tenant is active again: its held events go out now. */
export async function resumeEventDeliveries(env: Env, tenantId: string): Promise<void> {
  await tenantEvents(env, tenantId).resume();
}
