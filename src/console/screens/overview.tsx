import type { Env } from "../../env";
import { LinkRepo } from "../../storage/onboarding-links";
import type { TenantTotal } from "../../storage/usage-repo";
import type { TenantContext } from "../../tenants/context";
import { RankChart } from "../../ui/charts";
import { money } from "../../ui/document";
import { teamUsage } from "../../usage/reports";
import { utcDay } from "../../usage/rows";
import { Screen } from "../parts";
import { count, DailyCharts, daysFrom, perDay } from "../usage-charts";

/** The tenants that cost most this month: a ranking, and the same numbers in a table. */
function TopTenants(props: { tenants: TenantTotal[]; month: string }) {
  if (props.tenants.length === 0) return <p>No usage this month yet.</p>;
  const name = (t: TenantTotal) => t.name ?? t.tenantId;
  return (
    <figure class="chart" id="top-tenants">
      <figcaption>The {props.tenants.length} tenants with the most spend this month</figcaption>
      <RankChart
        rows={props.tenants.map((t) => ({ label: name(t), value: t.costCents }))}
        summary={`Spend by tenant in ${props.month}, most first: ${props.tenants
          .slice(0, 3)
          .map((t) => `${name(t)} ${money(t.costCents)}`)
          .join(", ")}${props.tenants.length > 3 ? ", …" : ""}`}
        format={money}
      />
      <div class="table-wrap">
        <table id="top-tenants-table">
          <caption class="muted">Spend and sends by tenant, {props.month}, most spend first</caption>
          <thead>
            <tr>
              <th scope="col">Tenant</th>
              <th scope="col" class="num">
                Spend
              </th>
              <th scope="col" class="num">
                Sends
              </th>
            </tr>
          </thead>
          <tbody>
            {props.tenants.map((t) => (
              <tr data-tenant={t.tenantId}>
                <th scope="row">
                  <a href={`#/tenants/${t.tenantId}`}>{name(t)}</a>
                </th>
                <td class="num">{money(t.costCents)}</td>
                <td class="num">{count(t.sends)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}

/** The team: balance on the main account, tenants by status, links waiting, this month's usage and top spenders. */
export async function overviewScreen(env: Env, deps: TenantContext) {
  const today = utcDay(Date.now()).date;
  const month = today.slice(0, 7);
  const firstDay = `${month}-01`;
  const nextDay = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const [tenants, links, balance, usage] = await Promise.all([
    deps.repo.countByStatus(),
    new LinkRepo(deps.db, deps.counters).countByStatus(),
    deps.zavu.teamBalance().then(
      (b) => b.balance,
      () => null,
    ),
    teamUsage(env, deps.counters, firstDay, nextDay),
  ]);
  const days = perDay(daysFrom(firstDay, today), usage.days);
  const total = Object.values(tenants).reduce((a, b) => a + b, 0);
  return (
    <Screen title="Overview">
      <dl class="stats">
        <div>
          <dt>Team balance</dt>
          <dd>{balance === null ? "unavailable" : money(balance)}</dd>
        </div>
        <div>
          <dt>Tenants</dt>
          <dd>{total}</dd>
        </div>
        {(["active", "inactive", "provisioning", "deactivated"] as const).map((s) => (
          <div>
            <dt>
              <a href={`#/tenants?status=${s}`}>{s === "inactive" ? "Suspended" : s[0]!.toUpperCase() + s.slice(1)}</a>
            </dt>
            <dd>{tenants[s]}</dd>
          </div>
        ))}
        <div>
          <dt>
            <a href="#/links?status=pending">Links waiting</a>
          </dt>
          <dd>{links.pending}</dd>
        </div>
      </dl>
      <div class="actions">
        <a class="button" href="#/links">
          Onboard a customer
        </a>
        <a class="button secondary" href="#/tenants">
          Browse tenants
        </a>
      </div>
      <section class="card" aria-labelledby="month-h">
        <h2 id="month-h">This month ({month})</h2>
        <DailyCharts id="team-daily" days={days} period="this month" />
      </section>
      <section class="card" aria-labelledby="top-h">
        <h2 id="top-h">Top tenants by spend</h2>
        <TopTenants tenants={usage.tenants} month={month} />
        <p>
          <a href={`#/usage?month=${month}`}>Every tenant's usage this month, and its CSV →</a>
        </p>
      </section>
    </Screen>
  );
}
