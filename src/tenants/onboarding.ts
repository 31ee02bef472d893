import { ApiError, apiError } from "../errors";
import { assertIdentityFree, type CheckedIdentity, checkIdentity, type IdentityInput } from "../identity/register";
import { requireName } from "../lib/visible-text";
import { sealKey } from "../storage/key-vault";
import { newTenantId, type PlanOverrides, type TenantRecord } from "../storage/tenants";
import { audit, type TenantContext } from "./context";
import { assigningIdentity } from "./identity-writes";
import { loadTenant, verifyImportedKey } from "./lifecycle";
import { commitChange } from "./propagation";
import { beginTenant, provision } from "./provisioning";

export interface CreateTenantInput {
  name: string;
  externalId?: string;
  creditLimit?: number;
  metadata?: Record<string, unknown>;
  /** The limits it sets for itself; the others follow the deployment's defaults. */
  plan?: PlanOverrides;
  identity: IdentityInput;
  /** `identity` as checkIdentity already judged it (the portal's token test did): not fetched again. */
  checked?: CheckedIdentity;
}

export interface ImportTenantInput {
  subAccountId: string;
  apiKey: string;
  name?: string;
  externalId?: string;
  metadata?: Record<string, unknown>;
  plan?: PlanOverrides;
  identity: IdentityInput;
}

/** What a new tenant (created or imported) must satisfy: a usable identity nobody else holds, a free externalId. */
async function checkNewTenant(
  deps: TenantContext,
  input: { name?: string; identity: IdentityInput; checked?: CheckedIdentity; externalId?: string },
) {
  if (input.name !== undefined) requireName(input.name);
  const { identity } = input.checked ?? (await checkIdentity(input.identity, { allowHttpJwks: deps.allowHttpJwks }));
  await assertIdentityFree(deps.repo, identity);
  if (input.externalId && (await deps.repo.externalIdTaken(input.externalId))) {
    throw apiError("conflict", "This externalId belongs to another tenant.");
  }
  return identity;
}

/**
 * Onboards a customer: checks the identity, writes the tenant as `provisioning`, then runs the
 * crash-safe provisioning (see provisioning.ts). `extra` adds statements to the first write
 * (e.g. binding an Idempotency-Key to the new tenant id).
 */
export async function createTenant(
  deps: TenantContext,
  input: CreateTenantInput,
  extra?: (tenantId: string) => D1PreparedStatement[],
): Promise<TenantRecord> {
  const identity = await checkNewTenant(deps, input);
  const plan = input.plan && Object.keys(input.plan).length > 0 ? input.plan : null;
  const id = await beginTenant(deps, { ...input, identity }, (tenantId) => [
    ...(extra?.(tenantId) ?? []),
    ...(plan ? [deps.repo.update(tenantId, { plan: JSON.stringify(plan) })] : []),
  ]);
  return provisionWithAlerts(deps, id, true);
}

/**
 * The crash-safe provisioning (see provisioning.ts), telling the reseller's webhooks: the tenant went
 * live (tenant.status.changed), or stopped half way (tenant.provisioning.incomplete, once per tenant;
 * the scheduled maintenance sends the same event when it finds it still stuck).
 */
export async function provisionWithAlerts(
  deps: TenantContext,
  id: string,
  firstAttempt = false,
): Promise<TenantRecord> {
  try {
    const tenant = await provision(deps, id, firstAttempt);
    if (tenant.status !== "provisioning") {
      await deps.alerts
        .emit({
          type: "tenant.status.changed",
          tenantId: id,
          data: { tenantId: id, from: "provisioning", to: tenant.status },
        })
        .catch(() => undefined);
    }
    return tenant;
  } catch (err) {
    if (err instanceof ApiError && err.code === "provisioning_incomplete") {
      const step = (err.details as { step?: string } | undefined)?.step ?? null;
      await deps.alerts
        .emit({
          type: "tenant.provisioning.incomplete",
          tenantId: id,
          data: { tenantId: id, step },
          once: `tenant.provisioning.incomplete:${id}`,
        })
        .catch(() => undefined);
    }
    throw err;
  }
}

/** Adopts an existing sub-account whose key the reseller hands over (checked live with Zavu first). */
export async function importTenant(deps: TenantContext, input: ImportTenantInput): Promise<TenantRecord> {
  const identity = await checkNewTenant(deps, input);
  const { subAccount, key } = await verifyImportedKey(deps, input.subAccountId, input.apiKey);
  const id = newTenantId();
  const sealed = await sealKey(deps.kek, id, input.apiKey);
  await assigningIdentity(deps, identity, id, () =>
    commitChange(
      deps,
      [
        ...deps.repo.insertStatements(
          {
            id,
            name: requireName(input.name ?? subAccount.name),
            externalId: input.externalId ?? null,
            status: subAccount.status === "inactive" ? "inactive" : "active",
            creditLimit: subAccount.creditLimit ?? null,
            metadata: input.metadata ?? subAccount.metadata ?? null,
            subAccountId: subAccount.id,
            keyCiphertext: sealed,
            keyId: key.id,
            keyPrefix: key.keyPrefix,
            plan: input.plan && Object.keys(input.plan).length > 0 ? input.plan : null,
            // Its usage records start now: what it spent before is Zavu's history, not the gateway's.
            usageBaselineCents: subAccount.totalSpent,
          },
          identity,
          Date.now(),
        ),
        audit(deps, "tenant.import", id, {
          subAccountId: subAccount.id,
          keyPrefix: key.keyPrefix,
          issuer: identity.issuer,
        }),
      ],
      [{ kind: "tenant.created", tenantId: id, issuers: [identity.issuer] }],
    ),
  );
  return loadTenant(deps, id);
}
