import { type ApiError, apiError } from "../errors";
import { forgetIssuer, forgetTenant } from "../identity/resolve-tenant";
import { dropBalance } from "../storage/balance-cache";
import { openKey, sealKey } from "../storage/key-vault";
import { newTenantId, type TenantRecord } from "../storage/tenant-repo";
import type { IdentityConfig } from "../storage/tenants";
import { type ApiKeyInfo, type SubAccount, UpstreamError } from "../upstream/zavu-client";
import { type AdminDeps, audit } from "./deps";

/** A failure that leaves a half-made tenant for a retry or a repair to finish. */
function incomplete(tenantId: string, step: string): ApiError {
  return apiError(
    "provisioning_incomplete",
    `Provisioning stopped at step "${step}" because Zavu did not answer. Retry with the same Idempotency-Key, or POST /admin/v1/tenants/${tenantId}/repair.`,
    { tenantId, step },
  );
}

/** 4xx other than 408/409/429 means Zavu refused and created nothing; anything else may have taken effect. */
const definitelyRefused = (e: UpstreamError) =>
  e.kind === "http" && e.status < 500 && ![408, 409, 429].includes(e.status);

export interface NewTenant {
  name: string;
  externalId?: string;
  creditLimit?: number;
  metadata?: Record<string, unknown>;
  identity: IdentityConfig;
}

/**
 * Step 1: the tenant exists as `provisioning` before anything happens upstream, so no
 * sub-account can ever be created that the gateway does not know how to find again.
 */
export async function beginTenant(
  deps: AdminDeps,
  input: NewTenant,
  extra: (id: string) => D1PreparedStatement[] = () => [],
): Promise<string> {
  const id = newTenantId();
  try {
    await deps.repo.batch([
      ...deps.repo.insertStatements(
        {
          id,
          name: input.name,
          externalId: input.externalId ?? null,
          status: "provisioning",
          creditLimit: input.creditLimit || null,
          metadata: input.metadata ?? null,
          subAccountId: null,
          keyCiphertext: null,
          keyId: null,
          keyPrefix: null,
        },
        input.identity,
        Date.now(),
      ),
      audit(deps, "tenant.provision.started", id, { name: input.name, issuer: input.identity.issuer }),
      ...extra(id),
    ]);
  } catch (err) {
    if (String(err).includes("UNIQUE"))
      throw apiError("conflict", "This identity or externalId is already registered to another tenant.");
    throw err;
  }
  forgetIssuer(input.identity.issuer); // clear a cached "unknown issuer" in this isolate
  return id;
}

async function abandon(deps: AdminDeps, tenant: TenantRecord, step: string, cause: UpstreamError): Promise<never> {
  await deps.repo.batch([
    ...deps.repo.deleteStatements(tenant.id),
    audit(deps, "tenant.provision.failed", tenant.id, { step, upstreamStatus: cause.status, upstreamCode: cause.code }),
  ]);
  throw apiError(
    "upstream_error",
    `Zavu did not create the sub-account (${cause.code}): ${cause.message} No tenant was kept.`,
  );
}

/** Step 2: the upstream sub-account, created or (after a lost response) found by externalId = tenant id. */
async function ensureSubAccount(
  deps: AdminDeps,
  tenant: TenantRecord,
  mayExist: boolean,
): Promise<{ sub: SubAccount; key?: string }> {
  if (mayExist) {
    const found = await deps.zavu.findSubAccountByExternalId(tenant.id).catch(() => {
      throw incomplete(tenant.id, "find-sub-account");
    });
    if (found) return { sub: found };
  }
  try {
    const { subAccount } = await deps.zavu.createSubAccount({
      name: tenant.name,
      externalId: tenant.id,
      creditLimit: tenant.creditLimit ?? undefined,
      metadata: tenant.metadata ?? undefined,
    });
    return { sub: subAccount, key: subAccount.apiKey };
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    if (definitelyRefused(err)) return abandon(deps, tenant, "create-sub-account", err);
    // The create may have happened with its reply lost: look before deciding.
    let found: SubAccount | undefined;
    try {
      found = await deps.zavu.findSubAccountByExternalId(tenant.id);
    } catch {
      await deps.repo.batch([
        audit(deps, "tenant.provision.interrupted", tenant.id, { step: "create-sub-account", upstreamCode: err.code }),
      ]);
      throw incomplete(tenant.id, "create-sub-account");
    }
    if (!found) return abandon(deps, tenant, "create-sub-account", err);
    return { sub: found };
  }
}

const matching = (keys: ApiKeyInfo[], plaintext: string | null) =>
  plaintext ? keys.find((k) => !k.revokedAt && plaintext.startsWith(k.keyPrefix)) : undefined;

/**
 * Steps 2-4, resumable from wherever a previous attempt stopped: make sure the sub-account
 * exists, that the gateway holds a working key for it (a fresh one when the first was lost),
 * that no other live key exists, then mark the tenant active.
 */
export async function provision(deps: AdminDeps, tenantId: string, firstAttempt = false): Promise<TenantRecord> {
  let tenant = await deps.repo.get(tenantId);
  if (!tenant) throw apiError("not_found", "Tenant not found.");
  if (tenant.status !== "provisioning") return tenant;
  const resumed = !firstAttempt;

  if (!tenant.subAccountId) {
    const { sub, key } = await ensureSubAccount(deps, tenant, resumed);
    // Store the key the moment we have it: Zavu will never show it again.
    const sealed = key ? await sealKey(deps.kek, tenant.id, key) : null;
    await deps.repo.batch([deps.repo.update(tenant.id, { sub_account_id: sub.id, key_ciphertext: sealed })]);
    tenant = { ...tenant, subAccountId: sub.id, keyCiphertext: sealed };
  }
  const subId = tenant.subAccountId!;

  let issuedFreshKey = false;
  let revoked = 0;
  try {
    let keys = (await deps.zavu.listApiKeys(subId)).items;
    let plaintext = tenant.keyCiphertext
      ? await openKey(deps.kek, tenant.id, tenant.keyCiphertext).catch(() => null)
      : null;
    let current = matching(keys, plaintext);
    if (!current) {
      const { apiKey } = await deps.zavu.createApiKey(subId, "gateway");
      plaintext = apiKey.key;
      issuedFreshKey = true;
      await deps.repo.batch([
        deps.repo.update(tenant.id, {
          key_ciphertext: await sealKey(deps.kek, tenant.id, plaintext),
          key_id: apiKey.id,
        }),
      ]);
      keys = (await deps.zavu.listApiKeys(subId)).items;
      current = matching(keys, plaintext);
      if (!current) throw new UpstreamError("http", 502, "key_not_listed", "The new key is not in Zavu's key list.");
    }
    for (const key of keys) {
      if (key.id === current.id || key.revokedAt) continue;
      await deps.zavu.revokeApiKey(subId, key.id); // keys nobody holds any more (a lost reply's)
      revoked++;
    }
    await deps.repo.batch([
      deps.repo.update(tenant.id, { status: "active", key_id: current.id, key_prefix: current.keyPrefix }),
      audit(deps, resumed ? "tenant.provision.repaired" : "tenant.provision.completed", tenant.id, {
        subAccountId: subId,
        keyPrefix: current.keyPrefix,
        freshKeyIssued: issuedFreshKey,
        unknownKeysRevoked: revoked,
      }),
    ]);
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    await deps.repo.batch([
      audit(deps, "tenant.provision.interrupted", tenant.id, { step: "store-key", upstreamCode: err.code }),
    ]);
    throw incomplete(tenant.id, "store-key");
  }
  forgetTenant(tenant.id);
  await dropBalance(deps.kv, tenant.id);
  return (await deps.repo.get(tenant.id))!;
}
