import { apiError } from "../errors";
import type { Role } from "../lib/roles";
import { type StaffRow, TeamRepo } from "../storage/team-repo";
import { audit, type TenantContext } from "../tenants/context";
import { commitChange } from "../tenants/propagation";

/** An email as Access puts it in assertions, compared in lower case. */
export function staffEmail(raw: string): string {
  const email = normalEmail(raw);
  if (email === null)
    throw apiError("invalid_request", "email: an email address, as Cloudflare Access signs people in with.");
  return email;
}

/**
 * An email address as the staff table keys it: printable ASCII only, ASCII letters lowered (never
 * Unicode case folding, which turns the Kelvin sign into "k" and would let one address pass for
 * another); null when it is not one.
 */
export function normalEmail(raw: string): string | null {
  const email = raw.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (email.length > 254 || !/^[\x21-\x7e]+$/.test(email)) return null;
  return /^[^\s@<>"()]+@[^\s@<>"()]+\.[^\s@<>"()]+$/.test(email) ? email : null;
}

export function presentStaff(row: StaffRow) {
  return {
    email: row.email,
    role: row.role,
    updatedAt: new Date(row.updatedAt).toISOString(),
    updatedBy: row.updatedBy,
  };
}

export function listStaff(deps: TenantContext): Promise<StaffRow[]> {
  return new TeamRepo(deps.db, deps.counters).listStaff();
}

export async function getStaff(deps: TenantContext, raw: string): Promise<StaffRow> {
  const row = await new TeamRepo(deps.db, deps.counters).staff(staffEmail(raw));
  if (!row) throw apiError("not_found", "No such staff member.");
  return row;
}

/** Gives a person a role (added, or changed); every isolate honours it within the bound. Audited. */
export async function putStaff(deps: TenantContext, raw: string, role: Role): Promise<StaffRow> {
  const email = staffEmail(raw);
  const repo = new TeamRepo(deps.db, deps.counters);
  const before = await repo.staff(email);
  const row: StaffRow = { email, role, updatedAt: Date.now(), updatedBy: deps.actor };
  await commitChange(
    deps,
    [repo.putStaff(row), audit(deps, "staff.put", null, { email, role, previousRole: before?.role ?? null })],
    [{ kind: "team.staff", tenantId: null, issuers: [] }],
  );
  return row;
}

/** Removes a person (ACCESS_DEFAULT_ROLE, if set, is all they keep). Audited. */
export async function removeStaff(deps: TenantContext, raw: string): Promise<StaffRow> {
  const email = staffEmail(raw);
  const repo = new TeamRepo(deps.db, deps.counters);
  const before = await repo.staff(email);
  if (!before) throw apiError("not_found", "No such staff member.");
  await commitChange(
    deps,
    [repo.deleteStaff(email), audit(deps, "staff.remove", null, { email, previousRole: before.role })],
    [{ kind: "team.staff", tenantId: null, issuers: [] }],
  );
  return before;
}
