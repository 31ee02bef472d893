import type { TenantStatus } from "../../storage/tenants";
import { searchTenants } from "../../storage/tenants";
import type { TenantContext } from "../../tenants/context";
import { spendSnapshots } from "../../tenants/lifecycle";
import { money, StatusBadge } from "../../ui/document";
import { Screen, SpendBar } from "../parts";

export const PAGE_SIZE = 25;
const STATUSES: TenantStatus[] = ["active", "inactive", "provisioning", "deactivated"];

export interface TenantQuery {
  q?: string;
  status?: TenantStatus;
  cursor?: string;
}

export function tenantQuery(raw: Record<string, string | undefined>): TenantQuery {
  return {
    q: raw.q?.trim().slice(0, 200) || undefined,
    status: STATUSES.includes(raw.status as TenantStatus) ? (raw.status as TenantStatus) : undefined,
    cursor: raw.cursor && /^tnt_[0-9a-z]{1,40}$/.test(raw.cursor) ? raw.cursor : undefined,
  };
}

const routeOf = (q: TenantQuery) => {
  const params = new URLSearchParams();
  if (q.q) params.set("q", q.q);
  if (q.status) params.set("status", q.status);
  if (q.cursor) params.set("cursor", q.cursor);
  const s = params.toString();
  return `#/tenants${s ? `?${s}` : ""}`;
};

/** Tenants, newest first: search, status filter, keyset pages, spend from the edge's balance cache. */
export async function tenantsScreen(deps: TenantContext, query: TenantQuery) {
  const rows = await searchTenants(deps.db, deps.counters, { ...query, before: query.cursor, limit: PAGE_SIZE + 1 });
  const page = rows.slice(0, PAGE_SIZE);
  const spent = await spendSnapshots(
    deps,
    page.map((t) => t.id),
  );
  const next = rows.length > PAGE_SIZE ? page[page.length - 1]!.id : null;
  return (
    <Screen title="Tenants">
      <form method="get" data-route="/tenants" class="filters card">
        <div>
          <label for="q">Search by name or external ID</label>
          <input id="q" name="q" type="search" value={query.q ?? ""} placeholder="Acme" />
        </div>
        <div>
          <label for="status">Status</label>
          <select id="status" name="status">
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option value={s} selected={query.status === s}>
                {s === "inactive" ? "suspended (inactive)" : s}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Search</button>
      </form>
      {page.length === 0 ? (
        <p>No tenants match.</p>
      ) : (
        <div class="card table-wrap">
          <table class="stack">
            <caption class="muted">
              {query.cursor ? "A later page" : "Newest first"}
              {query.q ? `, matching "${query.q}"` : ""}
              {query.status ? `, ${query.status}` : ""}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">External ID</th>
                <th scope="col">Status</th>
                <th scope="col">Credit limit</th>
                <th scope="col">Spend</th>
              </tr>
            </thead>
            <tbody>
              {page.map((t, i) => (
                <tr>
                  <td data-label="Name">
                    <a href={`#/tenants/${t.id}`}>{t.name}</a>
                  </td>
                  <td data-label="External ID">{t.externalId ?? "—"}</td>
                  <td data-label="Status">
                    <StatusBadge status={t.status} />
                  </td>
                  <td data-label="Credit limit">{t.creditLimit ? money(t.creditLimit) : "no cap"}</td>
                  <td data-label="Spend">
                    <SpendBar id={t.id} spent={spent[i] ?? null} limit={t.creditLimit} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {query.cursor ? <a href={routeOf({ ...query, cursor: undefined })}>First page</a> : null}
        {next ? <a href={routeOf({ ...query, cursor: next })}>Next page</a> : null}
      </nav>
    </Screen>
  );
}
