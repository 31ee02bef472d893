import { ALERT_TYPES } from "../../alerts/events";
import { liveWebhook, MAX_WEBHOOKS } from "../../alerts/webhooks";
import type { Env } from "../../env";
import { type DeliveryRecord, type WebhookRecord, WebhookRepo } from "../../storage/webhook-repo";
import type { TenantContext } from "../../tenants/context";
import { StatusBadge, when } from "../../ui/document";
import { type Flash, Screen } from "../parts";

export const WEBHOOK_ID = /^whk_[0-9a-z]{26}$/;
/** How many of a webhook's deliveries its page shows (the admin API pages through all of them). */
export const DELIVERIES_SHOWN = 50;

const EVENT_HINTS: Record<(typeof ALERT_TYPES)[number], string> = {
  "tenant.credit.threshold": "a tenant's spend crosses 80 % and 100 % of its credit limit",
  "team.balance.low": "the team's balance at Zavu falls under the threshold",
  "tenant.rate_limited": "a tenant is first refused by its plan in a UTC hour",
  "tenant.provisioning.incomplete": "onboarding a tenant stopped half way",
  "tenant.status.changed": "a tenant goes live, is suspended, reactivated or deactivated",
  "tenant.delivery.failure_rate": "the failed share of a tenant's deliveries reaches the threshold, or clears",
};

function NewSecret(props: { webhook: WebhookRecord; secret: string }) {
  return (
    <div class="notice" role="status">
      <label for="new-webhook-secret">Signing secret (shown once: copy it into the receiver's configuration now)</label>
      <div class="copy">
        <input id="new-webhook-secret" type="text" readonly value={props.secret} data-focus tabindex={0} />
        <button type="button" data-copy="new-webhook-secret">
          Copy secret
        </button>
      </div>
      <p class="hint">
        {props.webhook.id} · Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature)
      </p>
    </div>
  );
}

function CreateForm() {
  return (
    <form method="post" action="/console/f/webhooks">
      <div class="row">
        <div>
          <label for="webhook-name">Name (optional)</label>
          <input id="webhook-name" name="name" type="text" maxlength={200} placeholder="Billing system" />
        </div>
        <div>
          <label for="webhook-url">URL (public https)</label>
          <input
            id="webhook-url"
            name="url"
            type="url"
            required
            maxlength={2048}
            placeholder="https://billing.example.com/hooks/zavu"
          />
        </div>
      </div>
      <fieldset>
        <legend>Events</legend>
        <div class="providers">
          {ALERT_TYPES.map((type) => (
            <label>
              <input type="checkbox" name="events" value={type} checked />
              <span>
                <code>{type}</code>
                <br />
                <span class="muted">{EVENT_HINTS[type]}</span>
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <div class="actions">
        <button type="submit">Register webhook</button>
      </div>
    </form>
  );
}

/** What the webhooks screen reports: a webhook just registered comes with its secret, shown this once. */
export type WebhooksFlash = Flash & { created?: { webhook: WebhookRecord; secret: string } };

/** The reseller's alert webhooks: register one (its secret shown once), the list, test, delete. */
export async function webhooksScreen(env: Env, deps: TenantContext, flash: WebhooksFlash = {}) {
  const items = await new WebhookRepo(env.DB, deps.counters).list(MAX_WEBHOOKS);
  return (
    <Screen title="Webhooks" flash={flash}>
      {flash.created ? <NewSecret webhook={flash.created.webhook} secret={flash.created.secret} /> : null}
      <p class="muted">
        The gateway tells your systems about tenants' spend, limits and status by signed POSTs to these endpoints (at
        most {MAX_WEBHOOKS}). A failed delivery is retried eight times over about 28 hours.
      </p>
      <section class="card" aria-labelledby="webhooks-h">
        <h2 id="webhooks-h">Endpoints</h2>
        {items.length === 0 ? (
          <p>No webhooks yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="stack" id="webhooks-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">URL</th>
                  <th scope="col">Events</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {items.map((w) => (
                  <tr data-webhook={w.id}>
                    <td data-label="Name">
                      <a href={`#/webhooks/${w.id}`}>{w.name ?? w.id}</a>
                    </td>
                    <td data-label="URL">
                      <code>{w.url}</code>
                    </td>
                    <td data-label="Events">{w.events.join(", ")}</td>
                    <td data-label="Created">{when(w.createdAt)}</td>
                    <td data-label="Actions">
                      <WebhookActions webhook={w} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="card" aria-labelledby="new-webhook-h">
        <h2 id="new-webhook-h">Register an endpoint</h2>
        <CreateForm />
      </section>
    </Screen>
  );
}

function WebhookActions(props: { webhook: WebhookRecord }) {
  const w = props.webhook;
  const label = w.name ?? w.id;
  return (
    <div class="actions">
      <form method="post" action={`/console/f/webhooks/${w.id}/test`}>
        <button type="submit" class="secondary" aria-label={`Send a test to ${label}`}>
          Send test
        </button>
      </form>
      <form method="post" action={`/console/f/webhooks/${w.id}/delete`}>
        <button type="submit" class="danger" aria-label={`Delete ${label}`}>
          Delete
        </button>
      </form>
    </div>
  );
}

function DeliveryRow(props: { d: DeliveryRecord }) {
  const d = props.d;
  return (
    <tr>
      <td data-label="Event">
        <code>{d.type}</code>
        <br />
        <span class="muted">{d.eventId}</span>
      </td>
      <td data-label="Status">
        <StatusBadge status={d.status} />
        {d.lastError ? <div class="muted">{d.lastError}</div> : null}
      </td>
      <td data-label="Attempts">
        {d.attempts}
        {d.lastStatus !== null ? <span class="muted"> · HTTP {d.lastStatus}</span> : null}
      </td>
      <td data-label="Created">{when(d.createdAt)}</td>
      <td data-label="Next attempt">{d.status === "pending" ? when(d.nextAttemptAt) : "—"}</td>
    </tr>
  );
}

/** One webhook: what it receives, its latest deliveries and their outcomes, test and delete. */
export async function webhookScreen(env: Env, deps: TenantContext, id: string, flash: Flash = {}) {
  const repo = new WebhookRepo(env.DB, deps.counters);
  const webhook = await liveWebhook(repo, id);
  const deliveries = await repo.deliveries(webhook.id, { limit: DELIVERIES_SHOWN });
  return (
    <Screen title={webhook.name ?? webhook.id} flash={flash}>
      <p>
        <a href="#/webhooks">← All webhooks</a>
      </p>
      <section class="card" aria-labelledby="webhook-h">
        <h2 id="webhook-h">Endpoint</h2>
        <dl class="facts">
          <dt>ID</dt>
          <dd>
            <code>{webhook.id}</code>
          </dd>
          <dt>URL</dt>
          <dd>
            <code>{webhook.url}</code>
          </dd>
          <dt>Events</dt>
          <dd>{webhook.events.join(", ")}</dd>
          <dt>Created</dt>
          <dd>{when(webhook.createdAt)}</dd>
        </dl>
        <WebhookActions webhook={webhook} />
      </section>
      <section class="card" aria-labelledby="deliveries-h">
        <h2 id="deliveries-h">Deliveries</h2>
        {deliveries.length === 0 ? (
          <p>Nothing sent to this endpoint yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="stack" id="deliveries-table">
              <caption class="muted">The {DELIVERIES_SHOWN} latest deliveries, newest first (kept 30 days)</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Created</th>
                  <th scope="col">Next attempt</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((d) => (
                  <DeliveryRow d={d} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Screen>
  );
}
