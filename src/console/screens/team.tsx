import { ROLE_DESCRIPTIONS, ROLES, type Role } from "../../lib/roles";
import type { AdminKeyRow, StaffRow } from "../../storage/team-repo";
import { listAdminKeys } from "../../team/api-keys";
import { listStaff } from "../../team/staff";
import type { TenantContext } from "../../tenants/context";
import { when } from "../../ui/document";
import { type Flash, Screen } from "../parts";

/** A key just created: its secret, shown this once, with a copy button. */
export interface NewKey {
  id: string;
  name: string;
  secret: string;
}

function RoleSelect(props: { id: string; value?: Role; label?: string }) {
  return (
    <select id={props.id} name="role" aria-label={props.label}>
      {ROLES.map((r) => (
        <option value={r} selected={r === (props.value ?? "viewer")}>
          {r}
        </option>
      ))}
    </select>
  );
}

function Roles() {
  return (
    <ul class="muted">
      {ROLES.map((r) => (
        <li>
          <strong>{r}</strong>: {ROLE_DESCRIPTIONS[r]}
        </li>
      ))}
    </ul>
  );
}

function KeyRow(props: { k: AdminKeyRow; now: number }) {
  const k = props.k;
  const expired = k.expiresAt !== null && k.expiresAt <= props.now;
  return (
    <tr>
      <td data-label="Name">{k.name}</td>
      <td data-label="Role">{k.role}</td>
      <td data-label="Key">
        <code>{k.prefix}…</code>
      </td>
      <td data-label="Created">{when(k.createdAt)}</td>
      <td data-label="Expires">
        {k.expiresAt === null ? "never" : `${expired ? "expired " : ""}${when(k.expiresAt)}`}
      </td>
      <td data-label="Last used">{k.lastUsedAt === null ? "never" : when(k.lastUsedAt)}</td>
      <td data-label="">
        <form method="post" action={`/console/f/api-keys/${k.id}/revoke`}>
          <button type="submit" class="danger" aria-label={`Revoke the key ${k.name}`}>
            Revoke
          </button>
        </form>
      </td>
    </tr>
  );
}

/** Admin API keys: create (the secret shown once, with a copy button), the list with last use, revoke. */
export async function apiKeysScreen(deps: TenantContext, flash: Flash = {}, created?: NewKey) {
  const keys = await listAdminKeys(deps);
  const now = Date.now();
  return (
    <Screen title="API keys" flash={flash}>
      {created ? (
        <div class="notice" role="status">
          <label for="new-key-secret">
            Secret of {created.name} (shown once: copy it now; the gateway keeps only its hash)
          </label>
          <div class="copy">
            <input id="new-key-secret" type="text" readonly value={created.secret} data-focus tabindex={0} />
            <button type="button" data-copy="new-key-secret">
              Copy key
            </button>
          </div>
        </div>
      ) : null}
      <form method="post" action="/console/f/api-keys" class="card">
        <h2>New admin API key</h2>
        <p class="muted">
          For scripts: send it as Authorization: Bearer. Revoked keys stop working everywhere within 5 seconds.
        </p>
        <div class="row">
          <div>
            <label for="key-name">Name</label>
            <input id="key-name" name="name" type="text" maxlength={200} required />
          </div>
          <div>
            <label for="key-role">Role</label>
            <RoleSelect id="key-role" />
          </div>
          <div>
            <label for="key-days">Expires in (days; empty for never)</label>
            <input id="key-days" name="expiresInDays" type="number" min={1} max={3650} />
          </div>
        </div>
        <Roles />
        <div class="actions">
          <button type="submit">Create key</button>
        </div>
      </form>
      {keys.length === 0 ? (
        <p class="muted">No admin API keys yet.</p>
      ) : (
        <table>
          <caption>Admin API keys, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <KeyRow k={k} now={now} />
            ))}
          </tbody>
        </table>
      )}
    </Screen>
  );
}

function StaffRowView(props: { s: StaffRow; n: number }) {
  const s = props.s;
  return (
    <tr>
      <td data-label="Email">{s.email}</td>
      <td data-label="Role">
        <form method="post" action="/console/f/staff" class="inline">
          <input type="hidden" name="email" value={s.email} />
          <RoleSelect id={`staff-role-${props.n}`} value={s.role} label={`Role of ${s.email}`} />
          <button type="submit">Set role</button>
        </form>
      </td>
      <td data-label="Changed">
        {when(s.updatedAt)} by {s.updatedBy}
      </td>
      <td data-label="">
        <form method="post" action="/console/f/staff/remove">
          <input type="hidden" name="email" value={s.email} />
          <button type="submit" class="danger" aria-label={`Remove ${s.email}`}>
            Remove
          </button>
        </form>
      </td>
    </tr>
  );
}

/** Staff: the people Cloudflare Access lets in, and their roles. */
export async function staffScreen(deps: TenantContext, accessOn: boolean, flash: Flash = {}) {
  const staff = await listStaff(deps);
  return (
    <Screen title="Staff" flash={flash}>
      {accessOn ? null : (
        <p class="muted">
          Cloudflare Access is not set up (ACCESS_TEAM_DOMAIN, ACCESS_AUD): these roles apply once it is.
        </p>
      )}
      <form method="post" action="/console/f/staff" class="card">
        <h2>Add a person, or change a role</h2>
        <div class="row">
          <div>
            <label for="staff-email">Email (as Access signs them in)</label>
            <input id="staff-email" name="email" type="email" maxlength={254} required />
          </div>
          <div>
            <label for="staff-role">Role</label>
            <RoleSelect id="staff-role" />
          </div>
        </div>
        <Roles />
        <div class="actions">
          <button type="submit">Save</button>
        </div>
      </form>
      {staff.length === 0 ? (
        <p class="muted">No staff yet.</p>
      ) : (
        <table>
          <caption>Staff</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Changed</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {staff.map((s, n) => (
              <StaffRowView s={s} n={n} />
            ))}
          </tbody>
        </table>
      )}
    </Screen>
  );
}
