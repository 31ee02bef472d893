import { DELIVERY_STATUSES, type DeliveryStatus, type EventDelivery } from "../../relay/event-log";
import type { TenantContext } from "../../tenants/context";
import { tenantEventDeliveries } from "../../tenants/event-deliveries";
import { loadTenant } from "../../tenants/lifecycle";
import { StatusBadge, when } from "../../ui/document";
import { type Flash, Screen } from "../parts";

export function deliveryStatusOf(raw: string | undefined): DeliveryStatus | undefined {
  return DELIVERY_STATUSES.includes(raw as DeliveryStatus) ? (raw as DeliveryStatus) : undefined;
}

const CURSOR = /^s[0-9a-z]{1,11}$/;

function DeliveryRow(props: { tenantId: string; d: EventDelivery }) {
  const d = props.d;
  return (
    <tr>
      <td data-label="Event">
        <code>{d.type}</code>
        <br />
        <span class="muted">{d.eventId}</span>
      </td>
      <td data-label="Sender">
        <code>{d.senderId}</code>
      </td>
      <td data-label="Status">
        <StatusBadge status={d.status} />
        {d.lastError ? <div class="muted">{d.lastError}</div> : null}
      </td>
      <td data-label="Attempts">
        {d.attempts}
        {d.lastStatus !== null ? <span class="muted"> · HTTP {d.lastStatus}</span> : null}
      </td>
      <td data-label="Received">{when(Date.parse(d.receivedAt))}</td>
      <td data-label="Action">
        <form method="post" action={`/console/f/tenants/${props.tenantId}/events/${d.id}/replay`}>
          <button type="submit" class="secondary" aria-label={`Deliver ${d.eventId} again`}>
            Replay
          </button>
        </form>
      </td>
    </tr>
  );
}

/** A tenant's event deliveries (Zavu's events for its senders, to the customer's URL): by status, newest first, replay. */
export async function eventsScreen(
  deps: TenantContext,
  id: string,
  query: { status?: DeliveryStatus; cursor?: string },
  flash: Flash = {},
) {
  const tenant = await loadTenant(deps, id);
  const cursor = query.cursor && CURSOR.test(query.cursor) ? query.cursor : undefined;
  const { items, nextCursor } = await tenantEventDeliveries(deps, id, { status: query.status, limit: 25, cursor });
  const tab = (s: DeliveryStatus | undefined, label: string) => (
    <li>
      <a
        href={s ? `#/tenants/${id}/events?status=${s}` : `#/tenants/${id}/events`}
        aria-current={query.status === s ? "true" : undefined}
      >
        {label}
      </a>
    </li>
  );
  return (
    <Screen title={`${tenant.name}: event deliveries`} flash={flash}>
      <p>
        <a href={`#/tenants/${id}`}>← {tenant.name}</a>
      </p>
      <section class="card" aria-labelledby="events-h">
        <h2 id="events-h">Event deliveries</h2>
        <p class="muted">
          Zavu's events for this tenant's senders (receipts, replies), as the gateway delivered them to the customer's
          URL. Kept 30 days. Replay delivers one again now.
        </p>
        <nav aria-label="Delivery status">
          <ul class="steps">
            {tab(undefined, "All")}
            {DELIVERY_STATUSES.map((s) => tab(s, s[0]!.toUpperCase() + s.slice(1)))}
          </ul>
        </nav>
        {items.length === 0 ? (
          <p>No event deliveries{query.status ? ` ${query.status}` : ""}.</p>
        ) : (
          <div class="table-wrap">
            <table class="stack">
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Sender</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Received</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {items.map((d) => (
                  <DeliveryRow tenantId={id} d={d} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {nextCursor ? (
          <nav class="pager" aria-label="Pages">
            <a
              href={`#/tenants/${id}/events?${new URLSearchParams({ ...(query.status ? { status: query.status } : {}), cursor: nextCursor })}`}
            >
              Next page
            </a>
          </nav>
        ) : null}
      </section>
    </Screen>
  );
}
