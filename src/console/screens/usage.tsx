import type { Env } from "../../env";
import { apiError } from "../../errors";
import type { MonthlyRow } from "../../storage/usage-repo";
import type { TenantContext } from "../../tenants/context";
import { money } from "../../ui/document";
import { monthlyUsage } from "../../usage/reports";
import { utcDay } from "../../usage/rows";
import { OutcomeHeads, Screen } from "../parts";
import { count } from "../usage-charts";

/** A month as the admin API's ?month= takes it. */
export const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The month asked for (YYYY-MM), or this month when none was. */
export function monthOf(raw: string | undefined): string {
  if (!raw) return utcDay(Date.now()).date.slice(0, 7);
  if (!MONTH.test(raw)) throw apiError("invalid_request", "Month: give a month as YYYY-MM, like 2026-01.");
  return raw;
}

interface TenantMonth {
  tenantId: string;
  name: string | null;
  externalId: string | null;
  channels: Array<{ channel: string; sends: number }>;
  sends: number;
  refusals: number;
  costCents: number;
  estimated: boolean;
  delivered: number;
  failed: number;
}

/** The month's rows (one a tenant and channel) added up by tenant, most spend first. */
export function byTenant(rows: MonthlyRow[]): TenantMonth[] {
  const out = new Map<string, TenantMonth>();
  for (const r of rows) {
    let t = out.get(r.tenantId);
    if (!t) {
      t = {
        tenantId: r.tenantId,
        name: r.name,
        externalId: r.externalId,
        channels: [],
        sends: 0,
        refusals: 0,
        costCents: 0,
        estimated: false,
        delivered: 0,
        failed: 0,
      };
      out.set(r.tenantId, t);
    }
    t.channels.push({ channel: r.channel, sends: r.sends });
    t.sends += r.sends;
    t.refusals += Object.values(r.refusals).reduce((a, b) => a + b, 0);
    t.costCents += r.costCents;
    t.estimated ||= r.estimatedCents !== 0;
    t.delivered += r.delivered;
    t.failed += r.failed;
  }
  return [...out.values()].sort((a, b) => b.costCents - a.costCents || a.tenantId.localeCompare(b.tenantId));
}

const monthName = (month: string) =>
  new Date(`${month}-01T00:00:00Z`).toLocaleString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });

/** A month's usage by tenant, a month picker, and the month's CSV (the admin API's GET /usage?format=csv). */
export async function usageScreen(env: Env, deps: TenantContext, month: string) {
  const tenants = byTenant(await monthlyUsage(env, deps.counters, month));
  const total = (k: "sends" | "refusals" | "costCents" | "delivered" | "failed") =>
    tenants.reduce((n, t) => n + t[k], 0);
  return (
    <Screen title={`Usage ${month}`} heading={`Usage, ${monthName(month)}`}>
      <form class="filters card" data-route="/usage">
        <div>
          <label for="usage-month">Month</label>
          <input id="usage-month" name="month" type="month" value={month} required pattern="\d{4}-\d{2}" />
        </div>
        <div></div>
        <button type="submit" class="secondary">
          Show
        </button>
      </form>
      <div class="actions">
        <button type="button" data-download={`/usage/export?month=${month}`} data-status="download-status">
          Download CSV ({month})
        </button>
        <span id="download-status" class="muted" role="status"></span>
      </div>
      <p class="hint">
        One row a tenant and channel, as the admin API's <code>GET /admin/v1/usage?month={month}&amp;format=csv</code>{" "}
        gives it: UTF-8, opens in any spreadsheet.
      </p>
      <section class="card" aria-labelledby="tenants-h">
        <h2 id="tenants-h">By tenant</h2>
        {tenants.length === 0 ? (
          <p>No usage in {monthName(month)}.</p>
        ) : (
          <div class="table-wrap">
            <table class="stack" id="month-table">
              <caption class="muted">Every tenant's usage in {monthName(month)}, most spend first</caption>
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">External ID</th>
                  <th scope="col">Channels</th>
                  <OutcomeHeads />
                  <th scope="col" class="num">
                    Refusals
                  </th>
                </tr>
              </thead>
              <tbody>
                {tenants.map((t) => (
                  <tr data-tenant={t.tenantId}>
                    <td data-label="Tenant">
                      <a href={`#/tenants/${t.tenantId}`}>{t.name ?? t.tenantId}</a>
                    </td>
                    <td data-label="External ID">{t.externalId ?? "—"}</td>
                    <td data-label="Channels">{t.channels.map((c) => `${c.channel} ${count(c.sends)}`).join(", ")}</td>
                    <td data-label="Sends" class="num">
                      {count(t.sends)}
                    </td>
                    <td data-label="Cost" class="num">
                      {money(t.costCents)}
                      {t.estimated ? <span class="muted"> (part estimated)</span> : null}
                    </td>
                    <td data-label="Delivered" class="num">
                      {count(t.delivered)}
                    </td>
                    <td data-label="Failed" class="num">
                      {count(t.failed)}
                    </td>
                    <td data-label="Refusals" class="num">
                      {count(t.refusals)}
                    </td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row" colspan={3}>
                    Total ({tenants.length} tenants)
                  </th>
                  <td data-label="Sends" class="num">
                    {count(total("sends"))}
                  </td>
                  <td data-label="Cost" class="num">
                    {money(total("costCents"))}
                  </td>
                  <td data-label="Delivered" class="num">
                    {count(total("delivered"))}
                  </td>
                  <td data-label="Failed" class="num">
                    {count(total("failed"))}
                  </td>
                  <td data-label="Refusals" class="num">
                    {count(total("refusals"))}
                  </td>
                </tr>
              </tfoot>
            </table>
          </div>
        )}
      </section>
    </Screen>
  );
}
