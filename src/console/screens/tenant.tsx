import type { Env } from "../../env";
import { PLAN_LIMITS, type PlanLimit, REQUESTS_PER_SECOND, SENDS_PER_MINUTE } from "../../lib/plan-values";
import { listAudit } from "../../storage/audit";
import { type SenderRecord, SenderRepo } from "../../storage/senders-repo";
import type { PlanLimits, TenantRecord } from "../../storage/tenants";
import type { UsageRecord } from "../../storage/usage-repo";
import { senderNames } from "../../tenants/as-tenant";
import type { TenantContext } from "../../tenants/context";
import { loadTenant, tenantBalance } from "../../tenants/lifecycle";
import { listPhoneNumbers, type OwnedPhoneNumber } from "../../tenants/phone-numbers";
import { money, StatusBadge, when } from "../../ui/document";
import type { Balance } from "../../upstream/zavu-client";
import { tenantUsage, type UsageTotals, usagePeriod } from "../../usage/reports";
import { PLAN_LABELS } from "../forms";
import { type Flash, OutcomeHeads, Screen } from "../parts";
import { count, DailyCharts, daysFrom, perDay, SpendGauge, SuccessRate } from "../usage-charts";

/** The days the tenant page charts: the last 30, today included. */
export const USAGE_DAYS = 30;

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

/** The plan in force (the tenant's own limits over the deployment's defaults). */
export function planOf(t: TenantRecord): PlanLimits {
  return t.effectivePlan ?? { requestsPerSecond: null, sendsPerMinute: null, dailySends: null, ...t.plan };
}

const limitText = (n: number | null) => (n === null ? "unlimited" : count(n));

function PlanChoice(props: { name: PlanLimit; values: readonly number[]; current: number | null }) {
  return (
    <>
      <label for={`plan-${props.name}`}>{PLAN_LABELS[props.name]}</label>
      <select id={`plan-${props.name}`} name={props.name}>
        <option value="" selected={props.current === null}>
          Unlimited
        </option>
        {props.values.map((v) => (
          <option value={String(v)} selected={props.current === v}>
            {count(v)}
          </option>
        ))}
      </select>
    </>
  );
}

/** The plan's limits, as the admin API's PATCH {plan} takes them (the values Rate Limiting bindings exist for). */
function PlanForm(props: { tenant: TenantRecord }) {
  const t = props.tenant;
  const plan = planOf(t);
  return (
    <form method="post" action={`/console/f/tenants/${t.id}/plan`}>
      <dl class="facts" id="plan-in-force">
        {PLAN_LIMITS.map((k) => (
          <>
            <dt>{PLAN_LABELS[k]}</dt>
            <dd>{limitText(plan[k])}</dd>
          </>
        ))}
      </dl>
      <div class="row">
        <div>
          <PlanChoice name="requestsPerSecond" values={REQUESTS_PER_SECOND} current={plan.requestsPerSecond} />
        </div>
        <div>
          <PlanChoice name="sendsPerMinute" values={SENDS_PER_MINUTE} current={plan.sendsPerMinute} />
        </div>
        <div>
          <label for="plan-dailySends">{PLAN_LABELS.dailySends} (empty for unlimited)</label>
          <input
            id="plan-dailySends"
            name="dailySends"
            type="text"
            inputmode="numeric"
            value={plan.dailySends === null ? "" : String(plan.dailySends)}
          />
        </div>
      </div>
      <p class="hint">A limit left as it is keeps following the deployment's default, if it does.</p>
      <div class="actions">
        <button type="submit">Save plan</button>
      </div>
    </form>
  );
}

const refusalsText = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([code, n]) => `${code} ${count(n)}`)
    .join(", ");

/** The tenant's usage records by day and channel, newest first, with their totals. */
function UsageTable(props: { records: UsageRecord[]; totals: UsageTotals }) {
  if (props.records.length === 0) return <p>No usage in these days.</p>;
  const { totals } = props;
  return (
    <div class="table-wrap">
      <table class="stack" id="usage-table">
        <caption class="muted">Usage records by UTC day and channel, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            <th scope="col">Channel</th>
            <OutcomeHeads />
            <th scope="col">Refusals</th>
          </tr>
        </thead>
        <tbody>
          {[...props.records]
            .sort((a, b) => b.date.localeCompare(a.date) || a.channel.localeCompare(b.channel))
            .map((r) => (
              <tr>
                <td data-label="Date">{r.date}</td>
                <td data-label="Channel">{r.channel}</td>
                <td data-label="Sends" class="num">
                  {count(r.sends)}
                </td>
                <td data-label="Cost" class="num">
                  {money(r.costCents)}
                  {r.estimatedCents !== 0 ? <span class="muted"> (estimated)</span> : null}
                </td>
                <td data-label="Delivered" class="num">
                  {count(r.delivered)}
                </td>
                <td data-label="Failed" class="num">
                  {count(r.failed)}
                </td>
                <td data-label="Refusals">{refusalsText(r.refusals) || "—"}</td>
              </tr>
            ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colspan={2}>
              Total
            </th>
            <td data-label="Sends" class="num">
              {count(totals.sends)}
            </td>
            <td data-label="Cost" class="num">
              {money(totals.costCents)}
            </td>
            <td data-label="Delivered" class="num">
              {count(totals.delivered)}
            </td>
            <td data-label="Failed" class="num">
              {count(totals.failed)}
            </td>
            <td data-label="Refusals">{count(totals.refusals)}</td>
          </tr>
        </tfoot>
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

/**
 * One tenant: facts, spend against its limit, its last 30 days of usage (charts, success rate, the
 * records), edits, plan, suspension, key rotation, identity, a setup link, deactivation, phone numbers,
 * senders, audit.
 */
export async function tenantScreen(env: Env, deps: TenantContext, id: string, flash: Flash = {}) {
  const tenant = await loadTenant(deps, id);
  const today = usagePeriod(undefined, undefined).to;
  const from = new Date(Date.parse(`${today}T00:00:00Z`) - (USAGE_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const usage = await tenantUsage(env, deps.counters, tenant.id, from, today);
  const days = perDay(daysFrom(from, today), usage.records);
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
            <SpendGauge spent={spent} limit={tenant.creditLimit} />
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
      <section class="card" aria-labelledby="usage-h">
        <h2 id="usage-h">Usage, last {USAGE_DAYS} days</h2>
        <DailyCharts id="tenant-daily" days={days} period={`the last ${USAGE_DAYS} days`} />
        <SuccessRate
          delivered={usage.totals.delivered}
          failed={usage.totals.failed}
          period={`in the last ${USAGE_DAYS} days`}
        />
        <h3>Records</h3>
        <UsageTable records={usage.records} totals={usage.totals} />
      </section>
      {live(tenant) ? (
        <>
          <section class="card" aria-labelledby="edit-h">
            <h2 id="edit-h">Details</h2>
            <EditForm tenant={tenant} />
          </section>
          <section class="card" aria-labelledby="plan-h">
            <h2 id="plan-h">Plan</h2>
            <PlanForm tenant={tenant} />
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
