import { CONSISTENCY_BOUND_MS, TENANT_CACHE_TTL_MS } from "../control/events";
import { ApiError, apiError } from "../errors";
import { assertIdentityFree } from "../identity/register";
import { requireName } from "../lib/visible-text";
import { snapshotKey } from "../spend/spend-ledger";
import { sealKey } from "../storage/key-vault";
import {
  type IdentityConfig,
  type PlanOverrides,
  type TenantRecord,
  type TenantStatus,
  writeRefusal,
} from "../storage/tenants";
import { type Balance, UpstreamError, zavuCall } from "../upstream/zavu-client";
import { utcDay } from "../usage/rows";
import { audit, type TenantContext } from "./context";
import { assigningIdentity } from "./identity-writes";
import { commitChange } from "./propagation";

/** How long rotation and other admin operations on one tenant hold its lease at most. */
const OPERATION_LOCK_MS = 60_000;

export async function loadTenant(deps: TenantContext, id: string): Promise<TenantRecord> {
  const tenant = await deps.repo.get(id);
  if (!tenant) throw apiError("not_found", "Tenant not found.");
  return tenant;
}

function requireLive(tenant: TenantRecord): string {
  if (tenant.status === "provisioning") {
    throw apiError("invalid_state", "This tenant is still provisioning; repair it first.");
  }
  if (tenant.status === "deactivated" || !tenant.subAccountId) {
    throw apiError("invalid_state", "This tenant has been deactivated.");
  }
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** The tenant's balance from Zavu (main key). */
export async function tenantBalance(deps: TenantContext, tenant: TenantRecord): Promise<Balance> {
  return deps.zavu.getBalance(requireLive(tenant)).catch(upstreamFailure);
}

/** totalSpent from Zavu, or the spend ledger's last copy (KV) when Zavu does not answer. */
export async function currentTotalSpent(deps: TenantContext, tenant: TenantRecord): Promise<number | null> {
  if (tenant.subAccountId && tenant.status !== "deactivated") {
    try {
      return (await deps.zavu.getSubAccount(tenant.subAccountId)).subAccount.totalSpent;
    } catch {
      // fall through to the copy
    }
  }
  return (await spendSnapshots(deps, [tenant.id]))[0] ?? null;
}

/** KV answers up to this many keys in one bulk read. */
const KV_BULK_KEYS = 100;

/**
 * The spend ledgers' copies in KV (tenants with a credit limit that have sent), for listings: one bulk
 * read per 100 tenants (a read per tenant made a listing page wait on 100 of them).
 */
export async function spendSnapshots(deps: TenantContext, ids: string[]): Promise<Array<number | null>> {
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += KV_BULK_KEYS) chunks.push(ids.slice(i, i + KV_BULK_KEYS));
  const found = await Promise.all(
    chunks.map(async (chunk) => {
      deps.counters.kvReads += chunk.length;
      const keys = chunk.map(snapshotKey);
      const copies = await deps.kv.get<{ spent: number }>(keys, "json").catch(() => null);
      return keys.map((key) => copies?.get(key)?.spent ?? null);
    }),
  );
  return found.flat();
}

export interface TenantChanges {
  name?: string;
  externalId?: string | null;
  creditLimit?: number | null;
  metadata?: Record<string, unknown> | null;
  status?: "active" | "inactive";
  /** Limits to change (null = unlimited); those left out stay as they are. */
  plan?: PlanOverrides;
}

/** tenant.status.changed, as statements for the batch that makes the change. */
async function statusChanged(deps: TenantContext, tenantId: string, from: TenantStatus, to: TenantStatus) {
  if (from === to) return [];
  return deps.alerts.statements({ type: "tenant.status.changed", tenantId, data: { tenantId, from, to } });
}

/**
 * Zavu first (it is the authority on limits and status), then D1 and the control plane, so every
 * isolate applies a suspension, a reactivation or a new limit within the consistency bound; a new
 * limit also reaches the tenant's spend ledger at once.
 */
export async function updateTenant(deps: TenantContext, id: string, changes: TenantChanges): Promise<TenantRecord> {
  if (changes.name !== undefined) requireName(changes.name);
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
  // Everything the commit needs is read before Zavu changes: a failed read then changes nothing.
  const alerts = changes.status ? await statusChanged(deps, id, tenant.status, changes.status) : [];
  if (Object.keys(upstream).length > 0) await deps.zavu.updateSubAccount(subId, upstream).catch(upstreamFailure);

  const fields: Parameters<typeof deps.repo.update>[1] = {};
  if (changes.name !== undefined) fields.name = changes.name;
  if (changes.externalId !== undefined) fields.external_id = changes.externalId;
  if (changes.creditLimit !== undefined) fields.credit_limit = changes.creditLimit || null;
  if (changes.metadata !== undefined) fields.metadata = changes.metadata ? JSON.stringify(changes.metadata) : null;
  if (changes.status !== undefined) fields.status = changes.status;
  // Not Zavu's: the gateway enforces the plan. Every isolate reloads the tenant (the event below).
  if (changes.plan !== undefined) fields.plan = JSON.stringify({ ...tenant.plan, ...changes.plan });
  const limitChanged = changes.creditLimit !== undefined && (changes.creditLimit || null) !== tenant.creditLimit;
  if (limitChanged) {
    await deps
      .ledger({ kind: "tenant", tenantId: id, subAccountId: subId })
      .setLimit({ kind: "tenant", tenantId: id, subAccountId: subId }, changes.creditLimit || null)
      .catch(() => undefined); // the ledger also reads the limit from Zavu on its next refresh
  }
  try {
    await commitChange(
      deps,
      [
        deps.repo.update(id, fields),
        audit(deps, "tenant.update", id, {
          fields: Object.keys(changes),
          ...(changes.plan ? { plan: changes.plan } : {}),
        }),
        ...alerts,
      ],
      [{ kind: changes.status ? "tenant.status" : "tenant.update", tenantId: id, issuers: [] }],
    );
  } catch (err) {
    // The batch may have been saved with its alerts (only the publication failed, or D1 lost the
    // batch's answer): they go out now, not at the next cron. A kick with nothing queued does nothing.
    if (alerts.length > 0) await deps.alerts.kick().catch(() => undefined);
    if (writeRefusal(err) === "unique") throw apiError("conflict", "This externalId belongs to another tenant.");
    // Zavu has the change and D1 may not (a failed write): say so, and how to finish it (the same call again).
    if (!(err instanceof ApiError) && Object.keys(upstream).length > 0) {
      throw apiError("change_incomplete", undefined, { tenantId: id });
    }
    throw err;
  }
  if (alerts.length > 0) await deps.alerts.kick().catch(() => undefined);
  // Today's quota ledger counts the day again on its next claim (sends made while the quota was off).
  if (changes.plan && "dailySends" in changes.plan) {
    const subject = { kind: "quota" as const, tenantId: id, day: utcDay(Date.now()).date, limit: 0 };
    await deps
      .ledger(subject)
      .replan()
      .catch(() => undefined); // unreachable: a changed quota's value also makes it count again
  }
  // Events held while it was suspended go out now (the relay would also find them within 10 minutes).
  if (changes.status === "active" && tenant.status !== "active") await deps.events.resume(id).catch(() => undefined);
  return loadTenant(deps, id);
}

/**
 * Gives the tenant another identity. The one it gives up is held (no other tenant can take it) until
 * no isolate can still route its tokens here: the quarantine after the change is published.
 */
export async function replaceIdentity(
  deps: TenantContext,
  id: string,
  identity: IdentityConfig,
): Promise<TenantRecord> {
  await loadTenant(deps, id);
  return underLock(deps, id, "Another change to this tenant's identity or status is in progress.", () =>
    replaceIdentityLocked(deps, id, identity),
  );
}

async function replaceIdentityLocked(deps: TenantContext, id: string, identity: IdentityConfig): Promise<TenantRecord> {
  const tenant = await loadTenant(deps, id);
  if (tenant.status === "deactivated") throw apiError("invalid_state", "This tenant has been deactivated.");
  await assertIdentityFree(deps.repo, identity, id);
  const previous = tenant.identity;
  const issuers = [...new Set([previous?.issuer, identity.issuer].filter((i): i is string => !!i))];
  await assigningIdentity(deps, identity, id, () =>
    commitChange(
      deps,
      [
        // Held long until published (an isolate may keep the old mapping up to its cache TTL without the event).
        ...deps.repo.replaceIdentityStatements(id, previous, identity, TENANT_CACHE_TTL_MS + CONSISTENCY_BOUND_MS),
        audit(deps, "tenant.identity.replace", id, { issuer: identity.issuer, jwksUri: identity.jwksUri }),
      ],
      [{ kind: "tenant.identity", tenantId: id, issuers }],
      { releases: previous ? [{ tenantId: id, identity: previous }] : [] },
    ),
  );
  return loadTenant(deps, id);
}

export async function listKeys(deps: TenantContext, id: string) {
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

/**
 * Zero-downtime rotation: the new key is stored and published first; the old one is revoked only
 * once every isolate has dropped it (the consistency bound after publication). One rotation at a
 * time per tenant. A failure after Zavu issued the new key revokes it again (503, the tenant keeps
 * its key), so no live key is left that nobody holds.
 */
export async function rotateKey(deps: TenantContext, id: string) {
  requireLive(await loadTenant(deps, id));
  return underLock(deps, id, "Another rotation of this tenant's key is in progress.", async () => {
    const tenant = await loadTenant(deps, id);
    const subId = requireLive(tenant);
    const { apiKey } = await deps.zavu.createApiKey(subId, "gateway").catch(upstreamFailure);
    let prefix: string;
    let published: { at: number };
    try {
      const { items } = await deps.zavu.listApiKeys(subId);
      prefix = items.find((k) => k.id === apiKey.id)?.keyPrefix ?? apiKey.key.slice(0, 12);
      const sealed = await sealKey(deps.kek, id, apiKey.key);
      published = await commitChange(
        deps,
        [
          deps.repo.update(id, { key_ciphertext: sealed, key_id: apiKey.id, key_prefix: prefix }),
          audit(deps, "tenant.key.rotate", id, { newKeyId: apiKey.id, keyPrefix: prefix, previousKeyId: tenant.keyId }),
        ],
        [{ kind: "tenant.key", tenantId: id, issuers: [] }],
      );
    } catch (err) {
      const stored = (await deps.repo.get(id).catch(() => null))?.keyId === apiKey.id;
      if (stored) throw err; // saved, only not yet published: the old key stays live meanwhile
      await deps.zavu.revokeApiKey(subId, apiKey.id).catch(() => undefined);
      throw apiError("key_rotation_incomplete", undefined, { tenantId: id });
    }
    // Every isolate drops the old key within the bound after publication; then it can go.
    await sleep(published.at + CONSISTENCY_BOUND_MS - Date.now());
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
  });
}

/**
 * Runs `run` holding the tenant's operation lock (the one provisioning holds), so rotation, identity
 * replacement and deactivation of one tenant never interleave: each reads the tenant after it has the
 * lock. 409 operation_in_progress while another holds it.
 */
async function underLock<T>(deps: TenantContext, id: string, busy: string, run: () => Promise<T>): Promise<T> {
  const owner = `${deps.requestId}:${crypto.randomUUID()}`;
  if (!(await deps.repo.tryLock(id, owner, OPERATION_LOCK_MS))) throw apiError("operation_in_progress", busy);
  try {
    return await run();
  } finally {
    await deps.repo.batch([deps.repo.unlockStatement(id, owner)]).catch(() => undefined);
  }
}

/** Deactivates upstream, erases the ciphertext, keeps the record. Repeating it is harmless. */
export async function deactivateTenant(deps: TenantContext, id: string) {
  const first = await loadTenant(deps, id);
  if (first.status === "deactivated") return { tenant: first, keysRevoked: 0 };
  return underLock(deps, id, "Another operation on this tenant is in progress; retry shortly.", () =>
    deactivateLocked(deps, id),
  );
}

async function deactivateLocked(deps: TenantContext, id: string) {
  const tenant = await loadTenant(deps, id);
  if (tenant.status === "deactivated") return { tenant, keysRevoked: 0 };
  let keysRevoked = 0;
  if (tenant.subAccountId) {
    ({ keysRevoked } = await deps.zavu.deactivateSubAccount(tenant.subAccountId).catch(upstreamFailure));
  }
  const alerts = await statusChanged(deps, id, tenant.status, "deactivated");
  // Its identity is given back, so the customer (or another tenant) can register it again after the hold.
  const identity = tenant.identity;
  // Its alert goes out at once, also when the commit fails after it was saved (publication, a lost answer).
  await commitChange(
    deps,
    [
      deps.repo.update(id, { status: "deactivated", key_ciphertext: null }),
      ...(identity
        ? deps.repo.releaseIdentityStatements(id, identity, TENANT_CACHE_TTL_MS + CONSISTENCY_BOUND_MS)
        : []),
      audit(deps, "tenant.deactivate", id, {
        subAccountId: tenant.subAccountId,
        keysRevoked,
        releasedIdentity: identity ? { issuer: identity.issuer, claim: identity.claim } : null,
      }),
      ...alerts,
    ],
    [{ kind: "tenant.status", tenantId: id, issuers: identity ? [identity.issuer] : [] }],
    { releases: identity ? [{ tenantId: id, identity }] : [] },
  ).finally(() => deps.alerts.kick().catch(() => undefined));
  return { tenant: await loadTenant(deps, id), keysRevoked };
}

/** Checks that a key the reseller hands over really is a live key of that sub-account. */
export async function verifyImportedKey(deps: TenantContext, subAccountId: string, apiKey: string) {
  const { subAccount } = await deps.zavu.getSubAccount(subAccountId).catch((err) => {
    if (err instanceof UpstreamError && err.status === 404) {
      throw apiError("invalid_request", "No such Zavu sub-account.");
    }
    return upstreamFailure(err);
  });
  const { items } = await deps.zavu.listApiKeys(subAccountId).catch(upstreamFailure);
  const key = items.find((k) => !k.revokedAt && apiKey.startsWith(k.keyPrefix));
  if (!key) throw apiError("invalid_request", "apiKey is not a live key of this sub-account.");
  const balance = await zavuCall<Balance>(deps.upstreamBase, apiKey, "GET", "/v1/balance", {
    timeoutMs: deps.upstreamTimeoutMs,
    counters: deps.counters,
  }).catch((err) => {
    if (err instanceof UpstreamError && err.status === 401) {
      throw apiError("invalid_request", "Zavu does not accept this apiKey.");
    }
    return upstreamFailure(err);
  });
  if (!balance.isSubAccount) throw apiError("invalid_request", "apiKey is not a sub-account key.");
  return { subAccount, key };
}
