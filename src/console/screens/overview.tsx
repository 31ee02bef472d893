import { LinkRepo } from "../../storage/onboarding-links";
import type { TenantContext } from "../../tenants/context";
import { money } from "../../ui/document";
import { Screen } from "../parts";

/** The team: balance on the main account, tenants by status, links waiting for customers. */
export async function overviewScreen(deps: TenantContext) {
  const [tenants, links, balance] = await Promise.all([
    deps.repo.countByStatus(),
    new LinkRepo(deps.db, deps.counters).countByStatus(),
    deps.zavu.teamBalance().then(
      (b) => b.balance,
      () => null,
    ),
  ]);
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
    </Screen>
  );
}
