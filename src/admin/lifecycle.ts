import { entryFromBalance } from "../edge/admission";
import { apiError } from "../errors";
import { assertIdentityFree } from "../identity/register";
import { forgetIssuer, forgetTenant } from "../identity/resolve-tenant";
import { type BalanceEntry, bumpStatusEpoch, forgetBalance, readBalance, writeBalance } from "../storage/balance-cache";
import { sealKey } from "../storage/key-vault";
import type { TenantRecord } from "../storage/tenant-repo";
import type { IdentityConfig } from "../storage/tenants";
import { type Balance, UpstreamError, zavuCall } from "../upstream/zavu-client";
import { type AdminDeps, audit } from "./deps";

export async function loadTenant(deps: AdminDeps, id: string): Promise<TenantRecord> {
  const tenant = await deps.repo.get(id);
  if (!tenant) throw apiError("not_found", "Tenant not found.");
  return tenant;
}

function requireLive(tenant: TenantRecord): string {
  if (tenant.status === "provisioning")
    throw apiError("invalid_state", "This tenant is still provisioning; repair it first.");
  if (tenant.status === "deactivated" || !tenant.subAccountId)
    throw apiError("invalid_state", "This tenant has been deactivated.");
  return tenant.subAccountId;
}

/** Maps an upstream failure during an admin call to the gateway's error. */
export function upstreamFailure(err: unknown): never {
  if (err instanceof UpstreamError) {
    if (err.kind === "timeout") throw apiError("upstream_timeout", err.message);
    if (err.kind === "network") throw apiError("upstream_unavailable", err.message);
    throw apiError("upstream_error", `Zavu answered ${err.status} ${err.code}: ${err.message}`);
  }
  throw err;
}

/** Re-reads the balance with the main key and stores it for the edge, keeping (or setting) the status. */
export async function refreshCachedBalance(
  deps: AdminDeps,
  tenant: TenantRecord,
  status?: BalanceEntry["status"],
): Promise<Balance> {
  const balance = await deps.zavu.getBalance(tenant.subAccountId!).catch(upstreamFailure);
  const previous = await readBalance(deps.kv, tenant.id);
  await writeBalance(deps.kv, tenant.id, entryFromBalance(balance, status ?? previous?.status ?? tenant.status));
  return balance;
}

export async function currentTotalSpent(deps: AdminDeps, tenant: TenantRecord): Promise<number | null> {
  if (!tenant.subAccountId || tenant.status === "deactivated")
    return (await readBalance(deps.kv, tenant.id))?.totalSpent ?? null;
  try {
    return (await deps.zavu.getSubAccount(tenant.subAccountId)).subAccount.totalSpent;
  } catch {
    return (await readBalance(deps.kv, tenant.id))?.totalSpent ?? null;
  }
}

export interface TenantChanges {
  name?: string;
  externalId?: string | null;
  creditLimit?: number | null;
  metadata?: Record<string, unknown> | null;
  status?: "active" | "inactive";
}

/** Zavu first (it is the authority on limits and status), then D1, then the edge's cache. */
export async function updateTenant(deps: AdminDeps, id: string, changes: TenantChanges): Promise<TenantRecord> {
  const tenant = await loadTenant(deps, id);
  const subId = requireLive(tenant);
  if (changes.externalId && (await deps.repo.externalIdTaken(changes.externalId, id))) {
    throw apiError("conflict", "This externalId belongs to another tenant.");
  }
  const upstream: Record<string, unknown> = {};
  if (changes.name !== undefined) upstream.name = changes.name;
  if (changes.creditLimit !== undefined) upstream.creditLimit = changes.creditLimit || null;
  if (changes.metadata !== undefined) upstream.metadata = changes.metadata ?? {};
  if (changes.status !== undefined) upstream.status = changes.status;
  if (Object.keys(upstream).length > 0) await deps.zavu.updateSubAccount(subId, upstream).catch(upstreamFailure);

  const fields: Parameters<typeof deps.repo.update>[1] = {};
  if (changes.name !== undefined) fields.name = changes.name;
  if (changes.externalId !== undefined) fields.external_id = changes.externalId;
  if (changes.creditLimit !== undefined) fields.credit_limit = changes.creditLimit || null;
  if (changes.metadata !== undefined) fields.metadata = changes.metadata ? JSON.stringify(changes.metadata) : null;
  if (changes.status !== undefined) fields.status = changes.status;
  try {
    await deps.repo.batch([
      deps.repo.update(id, fields),
      audit(deps, "tenant.update", id, { fields: Object.keys(changes) }),
    ]);
  } catch (err) {
    if (String(err).includes("UNIQUE")) throw apiError("conflict", "This externalId belongs to another tenant.");
    throw err;
  }
  forgetTenant(id);
  const updated = await loadTenant(deps, id);
  // The edge reads status and limit from KV: write them now so suspension bites on the next request.
  if (changes.status !== undefined || changes.creditLimit !== undefined) {
    await refreshCachedBalance(deps, updated, updated.status).catch(async () => {
      const previous = await readBalance(deps.kv, id);
      if (previous)
        await writeBalance(deps.kv, id, {
          ...previous,
          status: updated.status,
          creditLimit: updated.creditLimit,
          exhausted: null,
        });
      else forgetBalance(id);
    });
    await bumpStatusEpoch(deps.kv);
  }
  return updated;
}

export async function replaceIdentity(deps: AdminDeps, id: string, identity: IdentityConfig): Promise<TenantRecord> {
  const tenant = await loadTenant(deps, id);
  if (tenant.status === "deactivated") throw apiError("invalid_state", "This tenant has been deactivated.");
  await assertIdentityFree(deps.repo, identity, id);
  try {
    await deps.repo.batch([
      deps.repo.replaceIdentity(id, identity),
      audit(deps, "tenant.identity.replace", id, { issuer: identity.issuer, jwksUri: identity.jwksUri }),
    ]);
  } catch (err) {
    if (String(err).includes("UNIQUE"))
      throw apiError("conflict", "This issuer and claim value are already registered to another tenant.");
    throw err;
  }
  if (tenant.identity) forgetIssuer(tenant.identity.issuer);
  forgetIssuer(identity.issuer);
  forgetTenant(id);
  return loadTenant(deps, id);
}

export async function listKeys(deps: AdminDeps, id: string) {
  const tenant = await loadTenant(deps, id);
  const subId = requireLive(tenant);
  const { items } = await deps.zavu.listApiKeys(subId).catch(upstreamFailure);
  return items.map((k) => ({
    id: k.id,
    name: k.name,
    environment: k.environment,
    keyPrefix: k.keyPrefix,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt ?? null,
    revokedAt: k.revokedAt ?? null,
    current: k.id === tenant.keyId,
  }));
}

/** New key stored first, the old one revoked after: a failure in between leaves a working tenant. */
export async function rotateKey(deps: AdminDeps, id: string) {
  const tenant = await loadTenant(deps, id);
  const subId = requireLive(tenant);
  const { apiKey } = await deps.zavu.createApiKey(subId, "gateway").catch(upstreamFailure);
  const { items } = await deps.zavu.listApiKeys(subId).catch(upstreamFailure);
  const prefix = items.find((k) => k.id === apiKey.id)?.keyPrefix ?? apiKey.key.slice(0, 12);
  await deps.repo.batch([
    deps.repo.update(id, {
      key_ciphertext: await sealKey(deps.kek, id, apiKey.key),
      key_id: apiKey.id,
      key_prefix: prefix,
    }),
    audit(deps, "tenant.key.rotate", id, { newKeyId: apiKey.id, keyPrefix: prefix, previousKeyId: tenant.keyId }),
  ]);
  forgetTenant(id);
  let previousKeyRevoked = false;
  if (tenant.keyId) {
    try {
      await deps.zavu.revokeApiKey(subId, tenant.keyId);
      previousKeyRevoked = true;
    } catch {
      await deps.repo.batch([audit(deps, "tenant.key.revoke_failed", id, { keyId: tenant.keyId })]);
    }
  }
  return { keyId: apiKey.id, keyPrefix: prefix, previousKeyRevoked };
}

/** Deactivates upstream, erases the ciphertext, keeps the record. Repeating it is harmless. */
export async function deactivateTenant(deps: AdminDeps, id: string) {
  const tenant = await loadTenant(deps, id);
  if (tenant.status === "deactivated") return { tenant, keysRevoked: 0 };
  let keysRevoked = 0;
  if (tenant.subAccountId) {
    ({ keysRevoked } = await deps.zavu.deactivateSubAccount(tenant.subAccountId).catch(upstreamFailure));
  }
  await deps.repo.batch([
    deps.repo.update(id, { status: "deactivated", key_ciphertext: null }),
    audit(deps, "tenant.deactivate", id, { subAccountId: tenant.subAccountId, keysRevoked }),
  ]);
  const previous = await readBalance(deps.kv, id);
  await writeBalance(deps.kv, id, {
    balance: null,
    totalSpent: 0,
    creditLimit: null,
    ...previous,
    status: "deactivated",
    fetchedAt: Date.now(),
  });
  await bumpStatusEpoch(deps.kv);
  forgetTenant(id);
  return { tenant: await loadTenant(deps, id), keysRevoked };
}

/** Checks that a key the reseller hands over really is a live key of that sub-account. */
export async function verifyImportedKey(
  deps: AdminDeps,
  base: string,
  timeoutMs: number,
  subAccountId: string,
  apiKey: string,
) {
  const { subAccount } = await deps.zavu.getSubAccount(subAccountId).catch((err) => {
    if (err instanceof UpstreamError && err.status === 404)
      throw apiError("invalid_request", "No such Zavu sub-account.");
    return upstreamFailure(err);
  });
  const { items } = await deps.zavu.listApiKeys(subAccountId).catch(upstreamFailure);
  const key = items.find((k) => !k.revokedAt && apiKey.startsWith(k.keyPrefix));
  if (!key) throw apiError("invalid_request", "apiKey is not a live key of this sub-account.");
  const balance = await zavuCall<Balance>(base, apiKey, "GET", "/v1/balance", { timeoutMs }).catch((err) => {
    if (err instanceof UpstreamError && err.status === 401)
      throw apiError("invalid_request", "Zavu does not accept this apiKey.");
    return upstreamFailure(err);
  });
  if (!balance.isSubAccount) throw apiError("invalid_request", "apiKey is not a sub-account key.");
  return { subAccount, key };
}
