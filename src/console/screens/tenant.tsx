import { listAudit } from "../../storage/audit";
import { type SenderRecord, SenderRepo } from "../../storage/senders-repo";
import type { TenantRecord } from "../../storage/tenants";
import { senderNames } from "../../tenants/as-tenant";
import type { TenantContext } from "../../tenants/context";
import { loadTenant, tenantBalance } from "../../tenants/lifecycle";
import { listPhoneNumbers, type OwnedPhoneNumber } from "../../tenants/phone-numbers";
import { money, StatusBadge, when } from "../../ui/document";
import type { Balance } from "../../upstream/zavu-client";
import { type Flash, Screen, SpendBar } from "../parts";

const live = (t: TenantRecord) => t.status === "active" || t.status === "inactive";

function Identity(props: { tenant: TenantRecord }) {
  const id = props.tenant.identity;
  if (!id) return <p>No identity registered.</p>;
  return (
    <dl class="facts">
      <dt>Issuer</dt>
      <dd>
        <code>{id.issuer}</code>
      </dd>
      <dt>Keys</dt>
      <dd>{id.jwksUri ? <code>{id.jwksUri}</code> : `${id.jwks?.keys.length ?? 0} key(s) registered inline`}</dd>
      <dt>Audience</dt>
      <dd>{id.audience?.join(", ") ?? "any"}</dd>
      <dt>Algorithms</dt>
      <dd>{id.algorithms?.join(", ") ?? "any asymmetric"}</dd>
      <dt>Claim</dt>
      <dd>{id.claim ? `${id.claim.name} = ${id.claim.value}` : "none"}</dd>
    </dl>
  );
}

function EditForm(props: { tenant: TenantRecord }) {
  const t = props.tenant;
  return (
    <form method="post" action={`/console/f/tenants/${t.id}/update`}>
      <label for="edit-name">Name</label>
      <input id="edit-name" name="name" type="text" value={t.name} required maxlength={200} />
      <label for="edit-limit">Credit limit (USD; empty for no cap)</label>
      <input
        id="edit-limit"
        name="creditLimit"
        type="text"
        inputmode="decimal"
        value={t.creditLimit ? (t.creditLimit / 100).toFixed(2) : ""}
      />
      <label for="edit-metadata">Metadata (JSON object)</label>
      <textarea id="edit-metadata" name="metadata">
        {t.metadata ? JSON.stringify(t.metadata, null, 2) : ""}
      </textarea>
      <div class="actions">
        <button type="submit">Save changes</button>
      </div>
    </form>
  );
}

function Actions(props: { tenant: TenantRecord }) {
  const t = props.tenant;
  const suspended = t.status === "inactive";
  return (
    <div class="actions">
      <form method="post" action={`/console/f/tenants/${t.id}/status`}>
        <input type="hidden" name="status" value={suspended ? "active" : "inactive"} />
        <button type="submit" class={suspended ? "" : "secondary"}>
          {suspended ? "Reactivate" : "Suspend"}
        </button>
      </form>
      <form method="post" action={`/console/f/tenants/${t.id}/rotate-key`}>
        <button type="submit" class="secondary">
          Rotate Zavu key
        </button>
      </form>
    </div>
  );
}

function PhoneNumbers(props: { tenantId: string; numbers: OwnedPhoneNumber[] | null }) {
  const { tenantId, numbers } = props;
  return (
    <>
      {numbers === null ? (
        <p>Zavu did not answer; the numbers are unavailable right now.</p>
      ) : numbers.length === 0 ? (
        <p>No phone numbers yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="stack">
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">ID</th>
                <th scope="col">Status</th>
                <th scope="col">Sender</th>
                <th scope="col">Release</th>
              </tr>
            </thead>
            <tbody>
              {numbers.map((n) => (
                <tr>
                  <td data-label="Number">
                    <code>{n.phoneNumber}</code>
                  </td>
                  <td data-label="ID">
                    <code>{n.id}</code>
                  </td>
                  <td data-label="Status">{n.status ?? "—"}</td>
                  <td data-label="Sender">{n.senderId ? <code>{n.senderId}</code> : "—"}</td>
                  <td data-label="Release">
                    <form
                      method="post"
                      action={`/console/f/tenants/${tenantId}/phone-numbers/${encodeURIComponent(n.id)}/release`}
                    >
                      <button type="submit" class="danger">
                        Release
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form method="post" action={`/console/f/tenants/${tenantId}/phone-numbers`}>
        <h3>Buy a number</h3>
        <p class="muted">Charged to this tenant's sub-account (it counts in its spend).</p>
        <label for="buy-number">Phone number (E.164)</label>
        <input id="buy-number" name="phoneNumber" type="text" inputmode="tel" placeholder="+15550100001" required />
        <div class="actions">
          <button type="submit" class="secondary">
            Buy number
          </button>
        </div>
      </form>
    </>
  );
}

/** The tenant's senders, from the gateway's own records (D1): the customer's webhook settings, as text. */
function Senders(props: { senders: SenderRecord[]; names: Map<string, string> | null }) {
  const live = props.senders.filter((s) => s.senderId && s.deletedAt === null);
  if (live.length === 0) return <p>No senders made through the gateway.</p>;
  return (
    <div class="table-wrap">
      <table class="stack">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Sender ID</th>
            <th scope="col">Webhook URL</th>
            <th scope="col">Active</th>
            <th scope="col">Signature</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {live.map((s) => (
            <tr>
              <td data-label="Name">{props.names?.get(s.senderId!) ?? "—"}</td>
              <td data-label="Sender ID">
                <code>{s.senderId}</code>
              </td>
              <td data-label="Webhook URL">{s.webhookUrl ? <code>{s.webhookUrl}</code> : "none"}</td>
              <td data-label="Active">{s.webhookUrl ? (s.webhookActive ? "yes" : "paused") : "—"}</td>
              <td data-label="Signature">{s.signatureVersion}</td>
              <td data-label="Created">{when(s.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

async function auditTrail(deps: TenantContext, tenantId: string) {
  const entries = await listAudit(deps.db, deps.counters, { tenantId, limit: 25 });
  return (
    <div class="table-wrap">
      <table class="stack">
        <caption class="muted">The 25 latest entries</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr>
              <td data-label="When">{when(e.at)}</td>
              <td data-label="Who">{e.actor}</td>
              <td data-label="What">
                <code>{e.action}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One tenant: facts, spend, edits, suspension, key rotation, identity, a setup link, deactivation, audit. */
export async function tenantScreen(deps: TenantContext, id: string, flash: Flash = {}) {
  const tenant = await loadTenant(deps, id);
  let balance: Balance | null = null;
  if (live(tenant)) balance = await tenantBalance(deps, tenant).catch(() => null);
  const spent = balance?.totalSpent ?? null;
  const numbers = live(tenant)
    ? await listPhoneNumbers(deps, tenant.id)
        .then((page) => page.items)
        .catch(() => null)
    : null;
  const senders = await new SenderRepo(deps.db, deps.counters).forTenant(tenant.id, 200);
  // Names live at Zavu only (D1 keeps the webhook side): best effort, like the balance.
  const names = live(tenant) && senders.length > 0 ? await senderNames(deps, tenant).catch(() => null) : null;
  return (
    <Screen
      title={tenant.name}
      heading={
        <>
          {tenant.name} <StatusBadge status={tenant.status} />
        </>
      }
      flash={flash}
    >
      <p>
        <a href="#/tenants">← All tenants</a>
      </p>
      <section class="card" aria-labelledby="spend-h">
        <h2 id="spend-h">Balance and spend</h2>
        <dl class="facts">
          <dt>Spend</dt>
          <dd>
            <SpendBar id={tenant.id} spent={spent} limit={tenant.creditLimit} />
          </dd>
          <dt>Team balance</dt>
          <dd>{balance ? money(balance.balance) : "unavailable"}</dd>
          <dt>Tenant ID</dt>
          <dd>
            <code>{tenant.id}</code>
          </dd>
          <dt>External ID</dt>
          <dd>{tenant.externalId ?? "—"}</dd>
          <dt>Zavu sub-account</dt>
          <dd>
            <code>{tenant.subAccountId ?? "—"}</code>
          </dd>
          <dt>Key in use</dt>
          <dd>{tenant.keyPrefix ? <code>{tenant.keyPrefix}…</code> : "—"}</dd>
          <dt>Created</dt>
          <dd>{when(tenant.createdAt)}</dd>
        </dl>
      </section>
      {live(tenant) ? (
        <>
          <section class="card" aria-labelledby="edit-h">
            <h2 id="edit-h">Details</h2>
            <EditForm tenant={tenant} />
          </section>
          <section class="card" aria-labelledby="status-h">
            <h2 id="status-h">Access</h2>
            <p class="muted">
              Suspending blocks messaging at once (the balance stays readable). Rotating issues a new Zavu key and
              revokes the old one.
            </p>
            <Actions tenant={tenant} />
          </section>
        </>
      ) : null}
      <section class="card" aria-labelledby="identity-h">
        <h2 id="identity-h">Identity provider</h2>
        <Identity tenant={tenant} />
        {live(tenant) ? (
          <form method="post" action={`/console/f/tenants/${tenant.id}/setup-link`}>
            <h3>Send a setup link</h3>
            <p class="muted">The customer's admin replaces the identity configuration themselves, with a test token.</p>
            <label for="setup-hours">Expires in (hours)</label>
            <input id="setup-hours" name="expiresInHours" type="number" min={1} max={720} value="72" />
            <div class="actions">
              <button type="submit" class="secondary">
                Create setup link
              </button>
            </div>
          </form>
        ) : null}
      </section>
      {tenant.status !== "deactivated" ? (
        <section class="card" aria-labelledby="danger-h">
          <h2 id="danger-h">Deactivate</h2>
          <form method="post" action={`/console/f/tenants/${tenant.id}/deactivate`}>
            <p class="muted">
              Zavu revokes every key of the sub-account and the stored key is erased. This cannot be undone.
            </p>
            <label for="confirm-name">Type the tenant's name ({tenant.name}) to confirm</label>
            <input id="confirm-name" name="confirm" type="text" autocomplete="off" required />
            <div class="actions">
              <button type="submit" class="danger">
                Deactivate tenant
              </button>
            </div>
          </form>
        </section>
      ) : null}
      {live(tenant) ? (
        <section class="card" aria-labelledby="numbers-h">
          <h2 id="numbers-h">Phone numbers</h2>
          <PhoneNumbers tenantId={tenant.id} numbers={numbers} />
        </section>
      ) : null}
      <section class="card" aria-labelledby="senders-h">
        <h2 id="senders-h">Senders</h2>
        <Senders senders={senders} names={names} />
        <p>
          <a href={`#/tenants/${tenant.id}/events`}>Event deliveries (receipts and replies) →</a>
        </p>
      </section>
      <section class="card" aria-labelledby="audit-h">
        <h2 id="audit-h">Audit trail</h2>
        {await auditTrail(deps, tenant.id)}
      </section>
    </Screen>
  );
}
