import type { DeliveryQuery } from "../relay/deliveries";
import type { EventDelivery } from "../relay/event-log";
import { audit, type TenantContext } from "./context";
import { loadTenant } from "./lifecycle";

/** The tenant's event delivery log (Zavu's events for its senders), newest first. */
export async function tenantEventDeliveries(deps: TenantContext, id: string, query: DeliveryQuery) {
  const tenant = await loadTenant(deps, id);
  return deps.events.list(tenant.id, query);
}

/** Delivers one of the tenant's events to the customer again now, with a fresh retry schedule; audited. */
export async function replayTenantEvent(deps: TenantContext, id: string, deliveryId: string): Promise<EventDelivery> {
  const tenant = await loadTenant(deps, id);
  const delivery = await deps.events.replay(tenant.id, deliveryId);
  await deps.repo.batch([audit(deps, "event_delivery.replay", tenant.id, { deliveryId })]);
  return delivery;
}
