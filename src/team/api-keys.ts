import { apiError } from "../errors";
import { bytesToBase64Url, sha256Base64Url } from "../lib/encoding";
import { sortableId } from "../lib/ids";
import type { Role } from "../lib/roles";
import { requireName } from "../lib/visible-text";
import { type AdminKeyRow, TeamRepo } from "../storage/team-repo";
import { audit, type TenantContext } from "../tenants/context";
import { commitChange } from "../tenants/propagation";
import { ADMIN_KEY_PREFIX } from "./authenticate";

export const ADMIN_KEY_ID = /^gk_[0-9a-z]{26}$/;
/** The longest a key may be made to last. */
export const MAX_KEY_DAYS = 3650;

/** An admin API key as the API shows it: never its secret, only the secret's first 12 characters. */
export function presentKey(row: AdminKeyRow) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    createdAt: new Date(row.createdAt).toISOString(),
    expiresAt: iso(row.expiresAt),
    lastUsedAt: iso(row.lastUsedAt),
  };
}

/** Makes a key: 256 random bits, shown once (the caller answers with it); D1 keeps their SHA-256. Audited. */
export async function createAdminKey(
  deps: TenantContext,
  input: { name: string; role: Role; expiresInDays?: number | null },
): Promise<{ key: AdminKeyRow; secret: string }> {
  const name = requireName(input.name);
  const days = input.expiresInDays ?? null;
  if (days !== null && (!Number.isInteger(days) || days < 1 || days > MAX_KEY_DAYS))
    throw apiError("invalid_request", `expiresInDays: a whole number of days, 1 to ${MAX_KEY_DAYS}.`);
  const secret = ADMIN_KEY_PREFIX + bytesToBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const now = Date.now();
  const key: AdminKeyRow = {
    id: sortableId("gk", now),
    name,
    role: input.role,
    prefix: secret.slice(0, 12),
    createdAt: now,
    createdBy: deps.actor,
    expiresAt: days === null ? null : now + days * 86_400_000,
    lastUsedAt: null,
  };
  const repo = new TeamRepo(deps.db, deps.counters);
  await deps.repo.batch([
    repo.insertKey(key, await sha256Base64Url(secret)),
    audit(deps, "admin_key.create", null, { keyId: key.id, name, role: key.role, prefix: key.prefix }),
  ]);
  return { key, secret };
}

export function listAdminKeys(deps: TenantContext): Promise<AdminKeyRow[]> {
  return new TeamRepo(deps.db, deps.counters).listKeys();
}

/**
 * Revokes a key: deleted in D1 with the control-plane event that makes every isolate drop the keys it
 * verified (team.key.revoked), so no request starting CONSISTENCY_BOUND_MS after this answer is let in
 * by it. Audited.
 */
export async function revokeAdminKey(deps: TenantContext, id: string): Promise<AdminKeyRow> {
  const repo = new TeamRepo(deps.db, deps.counters);
  const key = ADMIN_KEY_ID.test(id) ? await repo.keyById(id) : null;
  if (!key) throw apiError("not_found", "No such admin API key.");
  await commitChange(
    deps,
    [repo.deleteKey(id), audit(deps, "admin_key.revoke", null, { keyId: id, name: key.name, prefix: key.prefix })],
    [{ kind: "team.key.revoked", tenantId: null, issuers: [] }],
  );
  return key;
}
