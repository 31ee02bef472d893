import type { JSONWebKeySet } from "jose";

export type TenantStatus = "provisioning" | "active" | "inactive" | "deactivated";

/** A tenant's limits (see src/limits/plan.ts); null means unlimited. */
export interface PlanLimits {
  requestsPerSecond: number | null;
  sendsPerMinute: number | null;
  dailySends: number | null;
}

/** The plan limits a tenant sets for itself (null = unlimited); a limit it leaves out follows the deployment's default. */
export type PlanOverrides = Partial<PlanLimits>;

export interface IdentityConfig {
  issuer: string;
  audience: string[] | null;
  jwksUri: string | null;
  jwks: JSONWebKeySet | null;
  algorithms: string[] | null;
  claim: { name: string; value: string } | null;
}

/** A tenant as the admin API works with it (never with a plaintext key). */
export interface TenantRecord {
  id: string;
  name: string;
  externalId: string | null;
  status: TenantStatus;
  creditLimit: number | null;
  metadata: Record<string, unknown> | null;
  subAccountId: string | null;
  keyCiphertext: string | null;
  keyId: string | null;
  keyPrefix: string | null;
  createdAt: number;
  updatedAt: number;
  identity: IdentityConfig | null;
  /** The limits it sets for itself (null: all the deployment's defaults). */
  plan: PlanOverrides | null;
  /** Its plan in force: its own limits over the defaults, when the repository that read it knew them. */
  effectivePlan?: PlanLimits;
}

/** What the customer edge needs to know about a tenant. */
export interface EdgeTenant {
  id: string;
  status: TenantStatus;
  subAccountId: string | null;
  keyCiphertext: string | null;
  creditLimit: number | null;
  identity: IdentityConfig;
  plan: PlanOverrides | null;
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

export interface TenantRow {
  id: string;
  name: string;
  external_id: string | null;
  status: TenantStatus;
  credit_limit: number | null;
  metadata: string | null;
  sub_account_id: string | null;
  key_ciphertext: string | null;
  key_id: string | null;
  key_prefix: string | null;
  created_at: number;
  updated_at: number;
  plan?: string | null;
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

export function identityColumns(identity: IdentityConfig) {
  return [
    identity.issuer,
    identity.claim?.name ?? "",
    identity.claim?.value ?? "",
    identity.audience ? JSON.stringify(identity.audience) : null,
    identity.jwksUri,
    identity.jwks ? JSON.stringify(identity.jwks) : null,
    identity.algorithms ? JSON.stringify(identity.algorithms) : null,
  ];
}

export function recordFromRow(row: TenantRow & Partial<IdentityRow>, defaults?: PlanLimits): TenantRecord {
  const plan = planFromColumn(row.plan);
  return {
    id: row.id,
    name: row.name,
    externalId: row.external_id,
    status: row.status,
    creditLimit: row.credit_limit,
    metadata: row.metadata ? JSON.parse(row.metadata) : null,
    subAccountId: row.sub_account_id,
    keyCiphertext: row.key_ciphertext,
    keyId: row.key_id,
    keyPrefix: row.key_prefix,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    identity: row.issuer ? identityFromRow(row as IdentityRow) : null,
    plan,
    ...(defaults ? { effectivePlan: { ...defaults, ...plan } } : {}),
  };
}

/** The plan column (JSON); anything that is not an object of known limits reads as "all defaults". */
export function planFromColumn(raw: string | null | undefined): PlanOverrides | null {
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    const plan: PlanOverrides = {};
    for (const name of ["requestsPerSecond", "sendsPerMinute", "dailySends"] as const) {
      const v = parsed[name];
      if (v === null || (typeof v === "number" && Number.isSafeInteger(v) && v > 0)) plan[name] = v;
    }
    return Object.keys(plan).length > 0 ? plan : null;
  } catch {
    return null;
  }
}

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case

/** "tnt_" + 10 chars of time + 16 random: ids sort by creation, so keyset pages are chronological. */
export function newTenantId(now = Date.now()): string {
  let time = "";
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  const random = crypto.getRandomValues(new Uint8Array(16));
  return `tnt_${time}${[...random].map((b) => ALPHABET[b % 32]).join("")}`;
}

/** What a failed D1 write was refused for, read from the constraint or trigger that refused it (the one place). */
export type WriteRefusal = "unique" | "check" | "identity_conflict" | "identity_quarantined";

export function writeRefusal(err: unknown): WriteRefusal | null {
  const text = String(err instanceof Error ? err.message : err);
  if (text.includes("identity_quarantined")) return "identity_quarantined";
  if (text.includes("identity_conflict")) return "identity_conflict";
  if (text.includes("UNIQUE constraint failed")) return "unique";
  if (text.includes("CHECK constraint failed")) return "check";
  return null;
}
