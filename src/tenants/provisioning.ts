import { type ApiError, apiError } from "../errors";
import { errorName } from "../lib/error-name";
import { openKey, sealKey } from "../storage/key-vault";
import { type IdentityConfig, newTenantId, type TenantRecord } from "../storage/tenants";
import { type ApiKeyInfo, type SubAccount, UpstreamError } from "../upstream/zavu-client";
import { audit, type TenantContext } from "./context";
import { assigningIdentity } from "./identity-writes";
import { commitChange } from "./propagation";

/** A provisioning run holds the tenant's lease this long at most (each Zavu call is bounded by the upstream timeout). */
const PROVISION_LOCK_MS = 120_000;

/** A failure that leaves a half-made tenant for a retry or a repair to finish. */
function incomplete(tenantId: string, step: string, why = "Zavu did not answer"): ApiError {
  return apiError(
    "provisioning_incomplete",
    `Provisioning stopped at step "${step}" (${why}). Retry with the same Idempotency-Key, or POST /admin/v1/tenants/${tenantId}/repair.`,
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
  deps: TenantContext,
  input: NewTenant,
  extra: (id: string) => D1PreparedStatement[] = () => [],
): Promise<string> {
  const id = newTenantId();
  await assigningIdentity(deps, input.identity, id, () =>
    commitChange(
      deps,
      [
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
      ],
      // Isolates learn the issuer exists (their registry of issuers would refuse its tokens otherwise);
      // the activation publishes it at the latest.
      [{ kind: "tenant.created", tenantId: id, issuers: [input.identity.issuer] }],
      { deferrable: true },
    ),
  );
  return id;
}

async function abandon(deps: TenantContext, tenant: TenantRecord, step: string, cause: UpstreamError): Promise<never> {
  await commitChange(
    deps,
    [
      ...deps.repo.deleteStatements(tenant.id),
      audit(deps, "tenant.provision.failed", tenant.id, {
        step,
        upstreamStatus: cause.status,
        upstreamCode: cause.code,
      }),
    ],
    [{ kind: "tenant.deleted", tenantId: tenant.id, issuers: tenant.identity ? [tenant.identity.issuer] : [] }],
  );
  throw apiError(
    "upstream_error",
    `Zavu did not create the sub-account (${cause.code}): ${cause.message} No tenant was kept.`,
  );
}

/** Step 2: the upstream sub-account, created or (after a lost response) found by externalId = tenant id. */
async function ensureSubAccount(
  deps: TenantContext,
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
      throw incomplete(tenant.id, "create-sub-account");
    }
    if (!found) return abandon(deps, tenant, "create-sub-account", err);
    return { sub: found };
  }
}

const matching = (keys: ApiKeyInfo[], plaintext: string | null) =>
  plaintext ? keys.find((k) => !k.revokedAt && plaintext.startsWith(k.keyPrefix)) : undefined;

/** A write that must happen only while this run holds the tenant's lease. */
async function fenced(deps: TenantContext, statements: D1PreparedStatement[]): Promise<void> {
  const [first] = await deps.repo.batch(statements);
  if (first?.meta.changes !== 1) {
    throw apiError("operation_in_progress", "Another run took over provisioning this tenant; this one stopped.");
  }
}

/** Revokes a key nobody will hold (this run could not store it). Best effort: a later repair revokes what is left. */
async function revokeUnheld(deps: TenantContext, subId: string, plaintext: string): Promise<void> {
  try {
    const { items } = await deps.zavu.listApiKeys(subId);
    const key = matching(items, plaintext);
    if (key) await deps.zavu.revokeApiKey(subId, key.id);
  } catch {
    // The key stays live until the repair (or the scheduled maintenance) revokes keys nobody holds.
  }
}

/**
 * Steps 2-4, resumable from wherever a previous attempt stopped: make sure the sub-account exists,
 * that the gateway holds a working key for it (a fresh one when the first was lost), that no other
 * live key exists, then mark the tenant active. One run at a time per tenant (a lease in D1): a
 * retry or a repair that arrives meanwhile gets 409 operation_in_progress. Every failure after the
 * sub-account may exist answers 503 provisioning_incomplete with the tenant id, whatever failed.
 */
export async function provision(deps: TenantContext, tenantId: string, firstAttempt = false): Promise<TenantRecord> {
  // The tenant exists (as `provisioning`) before this runs: a failure to read or lock it still names it.
  const unreadable = () => incomplete(tenantId, "create-sub-account", "the gateway could not read its record");
  let tenant = await deps.repo.get(tenantId).catch(() => {
    throw unreadable();
  });
  if (!tenant) throw apiError("not_found", "Tenant not found.");
  if (tenant.status !== "provisioning") return tenant;
  const owner = `${deps.requestId}:${crypto.randomUUID()}`;
  const locked = await deps.repo.tryLock(tenantId, owner, PROVISION_LOCK_MS).catch(() => {
    throw unreadable();
  });
  if (!locked) {
    throw apiError("operation_in_progress", "This tenant is being provisioned by another request; retry shortly.");
  }
  let active: TenantRecord | null = null;
  const resumed = !firstAttempt;
  let step = "create-sub-account";
  let unheldKey: { subId: string; plaintext: string } | null = null;
  try {
    if (!tenant.subAccountId) {
      const { sub, key } = await ensureSubAccount(deps, tenant, resumed);
      // Store the key the moment we have it: Zavu will never show it again.
      step = "store-key";
      if (key) unheldKey = { subId: sub.id, plaintext: key };
      const sealed = key ? await sealKey(deps.kek, tenant.id, key) : null;
      await fenced(deps, [
        deps.repo.updateIfLocked(tenant.id, owner, { sub_account_id: sub.id, key_ciphertext: sealed }),
      ]);
      unheldKey = null;
      tenant = { ...tenant, subAccountId: sub.id, keyCiphertext: sealed };
    }
    const subId = tenant.subAccountId!;

    step = "store-key";
    let keys = (await deps.zavu.listApiKeys(subId)).items;
    let plaintext = tenant.keyCiphertext
      ? await openKey(deps.kek, tenant.id, tenant.keyCiphertext).catch(() => null)
      : null;
    let current = matching(keys, plaintext);
    let issuedFreshKey = false;
    if (!current) {
      const { apiKey } = await deps.zavu.createApiKey(subId, "gateway");
      plaintext = apiKey.key;
      unheldKey = { subId, plaintext };
      issuedFreshKey = true;
      const sealed = await sealKey(deps.kek, tenant.id, plaintext);
      await fenced(deps, [deps.repo.updateIfLocked(tenant.id, owner, { key_ciphertext: sealed, key_id: apiKey.id })]);
      unheldKey = null;
      keys = (await deps.zavu.listApiKeys(subId)).items;
      current = matching(keys, plaintext);
      if (!current) throw new UpstreamError("http", 502, "key_not_listed", "The new key is not in Zavu's key list.");
    }
    step = "revoke-unknown-keys";
    let revoked = 0;
    for (const key of keys) {
      if (key.id === current.id || key.revokedAt) continue;
      await deps.zavu.revokeApiKey(subId, key.id); // keys nobody holds any more (a lost reply's)
      revoked++;
    }
    step = "activate";
    await fenced(deps, [
      deps.repo.updateIfLocked(tenant.id, owner, {
        status: "active",
        key_id: current.id,
        key_prefix: current.keyPrefix,
      }),
    ]);
    active = { ...tenant, status: "active", keyId: current.id, keyPrefix: current.keyPrefix };
    await commitChange(
      deps,
      [
        audit(deps, resumed ? "tenant.provision.repaired" : "tenant.provision.completed", tenant.id, {
          subAccountId: subId,
          keyPrefix: current.keyPrefix,
          freshKeyIssued: issuedFreshKey,
          unknownKeysRevoked: revoked,
        }),
      ],
      [{ kind: "tenant.activated", tenantId: tenant.id, issuers: tenant.identity ? [tenant.identity.issuer] : [] }],
    );
  } catch (err) {
    if (unheldKey) await revokeUnheld(deps, unheldKey.subId, unheldKey.plaintext);
    const known = err as ApiError;
    const final = ["upstream_error", "operation_in_progress", "not_found", "propagation_pending"];
    if (final.includes(known.code)) throw err;
    const why = err instanceof UpstreamError ? "Zavu did not answer" : "the gateway could not store the result";
    await deps.repo
      .batch([
        audit(deps, "tenant.provision.interrupted", tenant.id, {
          step,
          ...(err instanceof UpstreamError ? { upstreamCode: err.code } : { failure: errorName(err) }),
        }),
      ])
      .catch(() => undefined);
    throw known.code === "provisioning_incomplete" ? err : incomplete(tenant.id, step, why);
  } finally {
    await deps.repo.batch([deps.repo.unlockStatement(tenantId, owner)]).catch(() => undefined);
  }
  // Done: a failed read of the result does not turn a finished onboarding into an error.
  return (await deps.repo.get(tenant.id).catch(() => null)) ?? active!;
}
