import { counters } from "./counters";
import { type IdentityConfig, type IdentityRow, identityFromRow, type TenantStatus } from "./tenants";

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
}

interface TenantRow {
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
}

const SELECT = `SELECT t.*, i.issuer, i.claim_name, i.claim_value, i.audience, i.jwks_uri, i.jwks, i.algorithms
  FROM tenants t LEFT JOIN tenant_identities i ON i.tenant_id = t.id`;

function toRecord(row: TenantRow & Partial<IdentityRow>): TenantRecord {
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
  };
}

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case

/** "tnt_" + 10 chars of time + 16 random: ids sort by creation, so keyset pages are chronological. */
export function newTenantId(now = Date.now()): string {
  let time = "";
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  const random = crypto.getRandomValues(new Uint8Array(16));
  return `tnt_${time}${[...random].map((b) => ALPHABET[b % 32]).join("")}`;
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

export class TenantRepo {
  constructor(private readonly db: D1Database) {}

  async get(id: string): Promise<TenantRecord | null> {
    counters.d1Queries++;
    const row = await this.db.prepare(`${SELECT} WHERE t.id = ?`).bind(id).first<TenantRow & IdentityRow>();
    return row ? toRecord(row) : null;
  }

  /** Keyset pagination: O(page) whatever the table size, through the (status, id) index or the primary key. */
  async list(opts: {
    limit: number;
    after?: string;
    status?: TenantStatus;
    externalId?: string;
  }): Promise<TenantRecord[]> {
    const where: string[] = ["t.id > ?1"];
    const params: unknown[] = [opts.after ?? ""];
    if (opts.status) where.push(`t.status = ?${params.push(opts.status)}`);
    if (opts.externalId) where.push(`t.external_id = ?${params.push(opts.externalId)}`);
    counters.d1Queries++;
    const { results } = await this.db
      .prepare(`${SELECT} WHERE ${where.join(" AND ")} ORDER BY t.id LIMIT ?${params.push(opts.limit)}`)
      .bind(...params)
      .all<TenantRow & IdentityRow>();
    return results.map(toRecord);
  }

  /** Identities registered for an issuer (to enforce one claim name per issuer and uniqueness). */
  async identitiesForIssuer(
    issuer: string,
  ): Promise<Array<{ tenantId: string; claimName: string; claimValue: string }>> {
    counters.d1Queries++;
    const { results } = await this.db
      .prepare("SELECT tenant_id, claim_name, claim_value FROM tenant_identities WHERE issuer = ? LIMIT 1000")
      .bind(issuer)
      .all<{ tenant_id: string; claim_name: string; claim_value: string }>();
    return results.map((r) => ({ tenantId: r.tenant_id, claimName: r.claim_name, claimValue: r.claim_value }));
  }

  async externalIdTaken(externalId: string, exceptId?: string): Promise<boolean> {
    counters.d1Queries++;
    const row = await this.db
      .prepare("SELECT id FROM tenants WHERE external_id = ? AND id != ?")
      .bind(externalId, exceptId ?? "")
      .first();
    return row !== null;
  }

  /** The tenant row and its identity, written together. */
  insertStatements(
    t: Omit<TenantRecord, "identity" | "createdAt" | "updatedAt">,
    identity: IdentityConfig,
    now: number,
  ): D1PreparedStatement[] {
    return [
      this.db
        .prepare(
          `INSERT INTO tenants (id, name, external_id, status, credit_limit, metadata, sub_account_id, key_ciphertext, key_id, key_prefix, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .bind(
          t.id,
          t.name,
          t.externalId,
          t.status,
          t.creditLimit,
          t.metadata ? JSON.stringify(t.metadata) : null,
          t.subAccountId,
          t.keyCiphertext,
          t.keyId,
          t.keyPrefix,
          now,
          now,
        ),
      this.db
        .prepare(
          `INSERT INTO tenant_identities (tenant_id, issuer, claim_name, claim_value, audience, jwks_uri, jwks, algorithms, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .bind(t.id, ...identityColumns(identity), now),
    ];
  }

  async batch(statements: D1PreparedStatement[]): Promise<void> {
    counters.d1Queries++;
    await this.db.batch(statements);
  }

  update(
    id: string,
    fields: Partial<
      Record<
        | "name"
        | "external_id"
        | "status"
        | "credit_limit"
        | "metadata"
        | "sub_account_id"
        | "key_ciphertext"
        | "key_id"
        | "key_prefix",
        unknown
      >
    >,
  ): D1PreparedStatement {
    const names = Object.keys(fields);
    return this.db
      .prepare(`UPDATE tenants SET ${names.map((n) => `${n} = ?`).join(", ")}, updated_at = ? WHERE id = ?`)
      .bind(...names.map((n) => fields[n as keyof typeof fields] ?? null), Date.now(), id);
  }

  replaceIdentity(id: string, identity: IdentityConfig): D1PreparedStatement {
    return this.db
      .prepare(
        `UPDATE tenant_identities SET issuer = ?, claim_name = ?, claim_value = ?, audience = ?, jwks_uri = ?, jwks = ?, algorithms = ?, updated_at = ?
         WHERE tenant_id = ?`,
      )
      .bind(...identityColumns(identity), Date.now(), id);
  }

  deleteStatements(id: string): D1PreparedStatement[] {
    return [
      this.db.prepare("DELETE FROM tenant_identities WHERE tenant_id = ?").bind(id),
      this.db.prepare("DELETE FROM tenants WHERE id = ?").bind(id),
    ];
  }
}
