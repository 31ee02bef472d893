import type { LinkRecord, LinkStatus } from "../../storage/onboarding-links";
import type { TenantContext } from "../../tenants/context";
import { listOnboardingLinks } from "../../tenants/onboarding-links";
import { money, StatusBadge, when } from "../../ui/document";
import { type Flash, Screen } from "../parts";

const STATUSES: LinkStatus[] = ["pending", "completed", "expired", "revoked"];

export function linkStatusOf(raw: string | undefined): LinkStatus | undefined {
  return STATUSES.includes(raw as LinkStatus) ? (raw as LinkStatus) : undefined;
}

function CreateForm() {
  return (
    <form method="post" action="/console/f/links" class="card">
      <h2>Onboard a new customer</h2>
      <p class="muted">
        The link opens a portal where the customer's admin connects their identity provider, proves it with a real
        token, and goes live. Fill in what you already know; all of it is optional.
      </p>
      <div class="row">
        <div>
          <label for="link-name">Customer name</label>
          <input id="link-name" name="name" type="text" maxlength={200} />
        </div>
        <div>
          <label for="link-external">Your reference (external ID)</label>
          <input id="link-external" name="externalId" type="text" maxlength={200} />
        </div>
        <div>
          <label for="link-limit">Credit limit (USD; empty for no cap)</label>
          <input id="link-limit" name="creditLimit" type="text" inputmode="decimal" />
        </div>
        <div>
          <label for="link-hours">Expires in (hours)</label>
          <input id="link-hours" name="expiresInHours" type="number" min={1} max={720} value="72" />
        </div>
      </div>
      <div class="actions">
        <button type="submit">Create onboarding link</button>
      </div>
    </form>
  );
}

function LinkRow(props: { link: LinkRecord }) {
  const l = props.link;
  return (
    <tr>
      <td data-label="Link">
        <code>{l.id}</code>
      </td>
      <td data-label="For">
        {l.purpose === "identity" ? (
          <a href={`#/tenants/${l.tenantId}`}>new identity for a tenant</a>
        ) : l.tenantId ? (
          <a href={`#/tenants/${l.tenantId}`}>{l.name ?? "new customer"}</a>
        ) : (
          (l.name ?? "new customer")
        )}
        {l.creditLimit ? <span class="muted"> · limit {money(l.creditLimit)}</span> : null}
      </td>
      <td data-label="Status">
        <StatusBadge status={l.status} />
      </td>
      <td data-label="Expires">{when(l.expiresAt)}</td>
      <td data-label="Action">
        {l.status === "pending" || l.status === "expired" ? (
          <form method="post" action={`/console/f/links/${l.id}/revoke`}>
            <button type="submit" class="secondary" aria-label={`Revoke ${l.id}`}>
              Revoke
            </button>
          </form>
        ) : null}
      </td>
    </tr>
  );
}

/** Onboarding links: create (the URL is shown once), list by status, revoke. */
export async function linksScreen(
  deps: TenantContext,
  query: { status?: LinkStatus; cursor?: string },
  flash: Flash = {},
) {
  const { items, next } = await listOnboardingLinks(deps, { status: query.status, limit: 25, before: query.cursor });
  const tab = (s: LinkStatus | undefined, label: string) => (
    <li>
      <a href={s ? `#/links?status=${s}` : "#/links"} aria-current={query.status === s ? "true" : undefined}>
        {label}
      </a>
    </li>
  );
  return (
    <Screen title="Onboarding links" flash={flash}>
      <CreateForm />
      <section class="card" aria-labelledby="links-h">
        <h2 id="links-h">Links</h2>
        <nav aria-label="Link status">
          <ul class="steps">
            {tab(undefined, "All")}
            {STATUSES.map((s) => tab(s, s[0]!.toUpperCase() + s.slice(1)))}
          </ul>
        </nav>
        {items.length === 0 ? (
          <p>No links{query.status ? ` ${query.status}` : ""}.</p>
        ) : (
          <div class="table-wrap">
            <table class="stack">
              <thead>
                <tr>
                  <th scope="col">Link</th>
                  <th scope="col">For</th>
                  <th scope="col">Status</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {items.map((l) => (
                  <LinkRow link={l} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {next ? (
          <nav class="pager" aria-label="Pages">
            <a
              href={`#/links?${new URLSearchParams({ ...(query.status ? { status: query.status } : {}), cursor: next })}`}
            >
              Next page
            </a>
          </nav>
        ) : null}
      </section>
    </Screen>
  );
}
