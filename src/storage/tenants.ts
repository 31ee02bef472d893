import type { JSONWebKeySet } from "jose";
import { counters } from "./counters";

export type TenantStatus = "provisioning" | "active" | "inactive" | "deactivated";

export interface IdentityConfig {
  issuer: string;
  audience: string[] | null;
  jwksUri: string | null;
  jwks: JSONWebKeySet | null;
  algorithms: string[] | null;
  claim: { name: string; value: string } | null;
}

/** What the customer edge needs to know about a tenant. */
export interface EdgeTenant {
  id: string;
  /** When the identity was last written: a token verified under it stays valid while this holds. */
  identityUpdatedAt: number;
  status: TenantStatus;
  subAccountId: string | null;
  keyCiphertext: string | null;
  creditLimit: number | null;
  identity: IdentityConfig;
}

export interface IdentityRow {
  issuer: string;
  claim_name: string;
  claim_value: string;
  audience: string | null;
  jwks_uri: string | null;
  jwks: string | null;
  algorithms: string | null;
}

export function identityFromRow(row: IdentityRow): IdentityConfig {
  return {
    issuer: row.issuer,
    audience: row.audience ? JSON.parse(row.audience) : null,
    jwksUri: row.jwks_uri,
    jwks: row.jwks ? JSON.parse(row.jwks) : null,
    algorithms: row.algorithms ? JSON.parse(row.algorithms) : null,
    claim: row.claim_name ? { name: row.claim_name, value: row.claim_value } : null,
  };
}

/**
 * Token issuer (+ claim value) -> tenant, in one indexed query. All identities of one issuer
 * share a claim name, so SQLite reads the claim's value out of the (not yet verified)
 * payload itself; the caller re-checks it after signature verification.
 * No rows: the issuer is unknown. Rows without an id: the issuer is known, the claim value is not.
 */
export async function findTenantsForToken(
  db: D1Database,
  issuer: string,
  payloadJson: string,
): Promise<Array<EdgeTenant | { id: null; identity: { claim: { name: string } | null } }>> {
  counters.d1Queries++;
  type Row = IdentityRow & {
    issuer_claim: string;
    identity_updated_at: number;
    id: string | null;
    status: TenantStatus;
    sub_account_id: string | null;
    key_ciphertext: string | null;
    credit_limit: number | null;
  };
  const { results } = await db
    .prepare(
      `WITH claim AS (SELECT claim_name AS name FROM tenant_identities WHERE issuer = ?1 LIMIT 1)
       SELECT claim.name AS issuer_claim, t.id, t.status, t.sub_account_id, t.key_ciphertext, t.credit_limit,
              i.issuer, i.claim_name, i.claim_value, i.audience, i.jwks_uri, i.jwks, i.algorithms, i.updated_at AS identity_updated_at
       FROM claim
       LEFT JOIN tenant_identities i ON i.issuer = ?1
         AND i.claim_value = CASE WHEN claim.name = '' THEN ''
               ELSE COALESCE(json_extract(?2, '$."' || claim.name || '"'), '') END
       LEFT JOIN tenants t ON t.id = i.tenant_id
       LIMIT 2`,
    )
    .bind(issuer, payloadJson)
    .all<Row>();
  return results.map((r) =>
    r.id === null
      ? { id: null, identity: { claim: r.issuer_claim ? { name: r.issuer_claim } : null } }
      : {
          id: r.id,
          identityUpdatedAt: r.identity_updated_at,
          status: r.status,
          subAccountId: r.sub_account_id,
          keyCiphertext: r.key_ciphertext,
          creditLimit: r.credit_limit,
          identity: identityFromRow(r),
        },
  );
}
