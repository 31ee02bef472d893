import type { Counters } from "../../lib/counters";
import { CountedDb } from "../db";
import {
  type EdgeTenant,
  type IdentityConfig,
  type IdentityRow,
  identityColumns,
  identityFromRow,
  type PlanLimits,
  type PlanOverrides,
  planFromColumn,
  recordFromRow,
  type TenantRecord,
  type TenantRow,
  type TenantStatus,
} from "./records";

const SELECT = `SELECT t.*, i.issuer, i.claim_name, i.claim_value, i.audience, i.jwks_uri, i.jwks, i.algorithms
  FROM tenants t LEFT JOIN tenant_identities i ON i.tenant_id = t.id`;

type Column =
  | "name"
  | "external_id"
  | "status"
  | "credit_limit"
  | "metadata"
  | "sub_account_id"
  | "key_ciphertext"
  | "key_id"
  | "key_prefix"
  | "plan"
  | "usage_baseline_cents";

/** The answer to "which tenant does this token claim?": a tenant, or the issuer's claim name when none matched. */
export type TokenLookup = { tenant: EdgeTenant } | { tenant: null; issuerKnown: boolean; claimName: string };

/** Tenants and their identities in D1. Every query is counted. */
export class TenantRepo {
  private readonly db: CountedDb;

  constructor(
    d1: D1Database,
    counters: Counters,
    /** The deployment's default plan: records read here carry their plan in force (effectivePlan). */
    private readonly planDefaults?: PlanLimits,
  ) {
    this.db = new CountedDb(d1, counters);
  }

  private record(row: TenantRow & Partial<IdentityRow>): TenantRecord {
    return recordFromRow(row, this.planDefaults);
  }

  async get(id: string): Promise<TenantRecord | null> {
    const row = await this.db.first<TenantRow & IdentityRow>(this.db.prepare(`${SELECT} WHERE t.id = ?`).bind(id));
    return row ? this.record(row) : null;
  }

  /** Keyset pagination: O(page) whatever the table size, through the (status, id) index or the primary key. */
  async list(opts: { limit: number; after?: string; status?: TenantStatus; externalId?: string }) {
    const where: string[] = ["t.id > ?1"];
    const params: unknown[] = [opts.after ?? ""];
    if (opts.status) where.push(`t.status = ?${params.push(opts.status)}`);
    if (opts.externalId) where.push(`t.external_id = ?${params.push(opts.externalId)}`);
    const { results } = await this.db.all<TenantRow & IdentityRow>(
      this.db
        .prepare(`${SELECT} WHERE ${where.join(" AND ")} ORDER BY t.id LIMIT ?${params.push(opts.limit)}`)
        .bind(...params),
    );
    return results.map((row) => this.record(row));
  }

  /**
   * Token issuer (+ claim value) -> tenant, in one indexed query. All identities of one issuer share
   * a claim name (a trigger enforces it), so SQLite reads the claim's value out of the (not yet
   * verified) payload itself; the caller verifies the token against the tenant's identity after.
   */
  async findForToken(issuer: string, payloadJson: string): Promise<TokenLookup> {
    type Row = IdentityRow & {
      issuer_claim: string;
      id: string | null;
      status: TenantStatus;
      sub_account_id: string | null;
      key_ciphertext: string | null;
      credit_limit: number | null;
      plan: string | null;
    };
    const { results } = await this.db.all<Row>(
      this.db
        .prepare(
          `WITH claim AS (SELECT claim_name AS name FROM tenant_identities WHERE issuer = ?1 LIMIT 1)
           SELECT claim.name AS issuer_claim, t.id, t.status, t.sub_account_id, t.key_ciphertext, t.credit_limit, t.plan,
                  i.issuer, i.claim_name, i.claim_value, i.audience, i.jwks_uri, i.jwks, i.algorithms
           FROM claim
           LEFT JOIN tenant_identities i ON i.issuer = ?1
             AND i.claim_value = CASE WHEN claim.name = '' THEN ''
                   ELSE COALESCE(json_extract(?2, '$."' || claim.name || '"'), '') END
           LEFT JOIN tenants t ON t.id = i.tenant_id
           LIMIT 2`,
        )
        .bind(issuer, payloadJson),
    );
    const row = results[0];
    if (!row) return { tenant: null, issuerKnown: false, claimName: "" };
    if (row.id === null || results.length > 1) return { tenant: null, issuerKnown: true, claimName: row.issuer_claim };
    return {
      tenant: {
        id: row.id,
        status: row.status,
        subAccountId: row.sub_account_id,
        keyCiphertext: row.key_ciphertext,
        creditLimit: row.credit_limit,
        identity: identityFromRow(row),
        plan: planFromColumn(row.plan),
      },
    };
  }

  /** How many tenants are in each status. */
  async countByStatus(): Promise<Record<TenantStatus, number>> {
    const { results } = await this.db.all<{ status: TenantStatus; n: number }>(
      this.db.prepare("SELECT status, COUNT(*) AS n FROM tenants GROUP BY status"),
    );
    const counts: Record<TenantStatus, number> = { provisioning: 0, active: 0, inactive: 0, deactivated: 0 };
    for (const r of results) counts[r.status] = r.n;
    return counts;
  }

  /** Whether any tenant is registered with this issuer. */
  async issuerRegistered(issuer: string): Promise<boolean> {
    const row = await this.db.first(
      this.db.prepare("SELECT 1 AS found FROM tenant_identities WHERE issuer = ? LIMIT 1").bind(issuer),
    );
    return row !== null;
  }

  /** Every issuer some tenant is registered with: the isolate's filter for garbage tokens. */
  async issuers(): Promise<string[]> {
    const { results } = await this.db.all<{ issuer: string }>(
      this.db.prepare("SELECT DISTINCT issuer FROM tenant_identities"),
    );
    return results.map((r) => r.issuer);
  }

  /** Identities registered for an issuer (to enforce one claim name per issuer and uniqueness). */
  async identitiesForIssuer(issuer: string) {
    const { results } = await this.db.all<{ tenant_id: string; claim_name: string; claim_value: string }>(
      this.db
        .prepare("SELECT tenant_id, claim_name, claim_value FROM tenant_identities WHERE issuer = ? LIMIT 1000")
        .bind(issuer),
    );
    return results.map((r) => ({ tenantId: r.tenant_id, claimName: r.claim_name, claimValue: r.claim_value }));
  }

  async externalIdTaken(externalId: string, exceptId?: string): Promise<boolean> {
    const row = await this.db.first(
      this.db.prepare("SELECT id FROM tenants WHERE external_id = ? AND id != ?").bind(externalId, exceptId ?? ""),
    );
    return row !== null;
  }

  /** When an identity released by another tenant may be taken (0 when it is free now). */
  async identityHeldUntil(identity: IdentityConfig, tenantId: string, now: number): Promise<number> {
    const row = await this.db.first<{ until: number | null }>(
      this.db
        .prepare(
          "SELECT MAX(hold_until) AS until FROM identity_releases WHERE issuer = ? AND claim_value = ? AND tenant_id != ?",
        )
        .bind(identity.issuer, identity.claim?.value ?? "", tenantId),
    );
    return row?.until && row.until > now ? row.until : 0;
  }

  /**
   * The tenant row and its identity, written together. Usage records start from Zavu's totalSpent at
   * this moment: 0 for a new sub-account (the default), the sub-account's total for an import.
   */
  insertStatements(
    t: Omit<TenantRecord, "identity" | "createdAt" | "updatedAt" | "plan"> & {
      plan?: PlanOverrides | null;
      usageBaselineCents?: number;
    },
    identity: IdentityConfig,
    now: number,
  ): D1PreparedStatement[] {
    return [
      this.db
        .prepare(
          `INSERT INTO tenants (id, name, external_id, status, credit_limit, metadata, sub_account_id, key_ciphertext,
             key_id, key_prefix, created_at, updated_at, plan, usage_baseline_cents)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
          t.plan ? JSON.stringify(t.plan) : null,
          t.usageBaselineCents ?? 0,
        ),
      this.db
        .prepare(
          `INSERT INTO tenant_identities (tenant_id, issuer, claim_name, claim_value, audience, jwks_uri, jwks,
             algorithms, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .bind(t.id, ...identityColumns(identity), now),
    ];
  }

  async batch(statements: D1PreparedStatement[]): Promise<D1Result[]> {
    return this.db.batch(statements);
  }

  update(id: string, fields: Partial<Record<Column, unknown>>): D1PreparedStatement {
    const names = Object.keys(fields);
    return this.db
      .prepare(`UPDATE tenants SET ${names.map((n) => `${n} = ?`).join(", ")}, updated_at = ? WHERE id = ?`)
      .bind(...names.map((n) => fields[n as Column] ?? null), Date.now(), id);
  }

  /** The same update, applied only while `owner` holds the tenant's provisioning lease (fencing). */
  updateIfLocked(id: string, owner: string, fields: Partial<Record<Column, unknown>>): D1PreparedStatement {
    const names = Object.keys(fields);
    return this.db
      .prepare(
        `UPDATE tenants SET ${names.map((n) => `${n} = ?`).join(", ")}, updated_at = ?
         WHERE id = ? AND lock_owner = ? AND lock_until > ?`,
      )
      .bind(...names.map((n) => fields[n as Column] ?? null), Date.now(), id, owner, Date.now());
  }

  /** Takes the tenant's provisioning lease for `ms` unless someone else holds it. */
  async tryLock(id: string, owner: string, ms: number): Promise<boolean> {
    const now = Date.now();
    const result = await this.db.run(
      this.db
        .prepare(
          "UPDATE tenants SET lock_owner = ?, lock_until = ? WHERE id = ? AND (lock_until <= ? OR lock_owner = ?)",
        )
        .bind(owner, now + ms, id, now, owner),
    );
    return result.meta.changes === 1;
  }

  unlockStatement(id: string, owner: string): D1PreparedStatement {
    return this.db
      .prepare("UPDATE tenants SET lock_owner = NULL, lock_until = 0 WHERE id = ? AND lock_owner = ?")
      .bind(id, owner);
  }

  /**
   * Replaces a tenant's identity. The identity it gives up is held for `holdMs` (until the release is
   * published, then shortened): no other tenant can take it meanwhile (a trigger refuses).
   */
  replaceIdentityStatements(id: string, previous: IdentityConfig | null, next: IdentityConfig, holdMs: number) {
    const now = Date.now();
    const statements = [
      this.db
        .prepare(
          `UPDATE tenant_identities SET issuer = ?, claim_name = ?, claim_value = ?, audience = ?, jwks_uri = ?, jwks = ?,
             algorithms = ?, updated_at = ?
           WHERE tenant_id = ?`,
        )
        .bind(...identityColumns(next), now, id),
    ];
    const released =
      previous && (previous.issuer !== next.issuer || (previous.claim?.value ?? "") !== (next.claim?.value ?? ""));
    if (released) statements.push(...this.releaseStatements(id, previous, now, holdMs));
    return statements;
  }

  /**
   * A deactivated tenant gives its identity back: the row goes, and the identity is held for
   * `holdMs` (shortened once published) before another tenant may take it.
   */
  releaseIdentityStatements(id: string, identity: IdentityConfig, holdMs: number): D1PreparedStatement[] {
    return [
      this.db.prepare("DELETE FROM tenant_identities WHERE tenant_id = ?").bind(id),
      ...this.releaseStatements(id, identity, Date.now(), holdMs),
    ];
  }

  private releaseStatements(id: string, identity: IdentityConfig, now: number, holdMs: number) {
    return [
      this.db.prepare("DELETE FROM identity_releases WHERE hold_until < ?").bind(now - 24 * 3600_000),
      this.db
        .prepare(
          `INSERT INTO identity_releases (issuer, claim_value, tenant_id, released_at, hold_until) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (issuer, claim_value, tenant_id) DO UPDATE SET released_at = excluded.released_at,
             hold_until = excluded.hold_until`,
        )
        .bind(identity.issuer, identity.claim?.value ?? "", id, now, now + holdMs),
    ];
  }

  /** Once the release is published, the hold shortens to the quarantine after publication. */
  async shortenRelease(id: string, identity: IdentityConfig, holdUntil: number): Promise<void> {
    await this.db.run(
      this.db
        .prepare(
          "UPDATE identity_releases SET hold_until = MIN(hold_until, ?) WHERE issuer = ? AND claim_value = ? AND tenant_id = ?",
        )
        .bind(holdUntil, identity.issuer, identity.claim?.value ?? "", id),
    );
  }

  deleteStatements(id: string): D1PreparedStatement[] {
    return [
      this.db.prepare("DELETE FROM tenant_identities WHERE tenant_id = ?").bind(id),
      this.db.prepare("DELETE FROM tenants WHERE id = ?").bind(id),
    ];
  }
}
