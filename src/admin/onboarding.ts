import { apiError } from "../errors";
import { assertIdentityFree, type IdentityInput, prepareIdentity } from "../identity/register";
import { sealKey } from "../storage/key-vault";
import { newTenantId, type TenantRecord } from "../storage/tenants";
import { type AdminDeps, audit } from "./deps";
import { assigningIdentity } from "./identity-writes";
import { loadTenant, verifyImportedKey } from "./lifecycle";
import { commitChange } from "./propagation";
import { beginTenant, provision } from "./provisioning";

export interface CreateTenantInput {
  name: string;
  externalId?: string;
  creditLimit?: number;
  metadata?: Record<string, unknown>;
  identity: IdentityInput;
}

export interface ImportTenantInput {
  subAccountId: string;
  apiKey: string;
  name?: string;
  externalId?: string;
  metadata?: Record<string, unknown>;
  identity: IdentityInput;
}

/** What a new tenant (created or imported) must satisfy: a usable identity nobody else holds, a free externalId. */
async function checkNewTenant(deps: AdminDeps, input: { identity: IdentityInput; externalId?: string }) {
  const identity = await prepareIdentity(input.identity, { allowHttpJwks: deps.allowHttpJwks });
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
  deps: AdminDeps,
  input: CreateTenantInput,
  extra?: (tenantId: string) => D1PreparedStatement[],
): Promise<TenantRecord> {
  const identity = await checkNewTenant(deps, input);
  const id = await beginTenant(deps, { ...input, identity }, extra);
  return provision(deps, id, true);
}

/** Adopts an existing sub-account whose key the reseller hands over (checked live with Zavu first). */
export async function importTenant(deps: AdminDeps, input: ImportTenantInput): Promise<TenantRecord> {
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
            name: input.name ?? subAccount.name,
            externalId: input.externalId ?? null,
            status: subAccount.status === "inactive" ? "inactive" : "active",
            creditLimit: subAccount.creditLimit ?? null,
            metadata: input.metadata ?? subAccount.metadata ?? null,
            subAccountId: subAccount.id,
            keyCiphertext: sealed,
            keyId: key.id,
            keyPrefix: key.keyPrefix,
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
