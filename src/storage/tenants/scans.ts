import type { Counters } from "../../lib/counters";
import { CountedDb } from "../db";

/**
 * The reads and the one guarded write maintenance needs over the tenants table. Every scan is a
 * keyset page by id (`after`), so a job can stop anywhere and resume there.
 */
export class TenantScans {
  private readonly db: CountedDb;

  constructor(d1: D1Database, counters: Counters) {
    this.db = new CountedDb(d1, counters);
  }

  /** Live tenants (active or suspended) with their sub-account and credit limit, a page after `after`. */
  async live(opts: { after: string; limit: number }) {
    const { results } = await this.db.all<{ id: string; sub_account_id: string; credit_limit: number | null }>(
      this.db
        .prepare(
          `SELECT id, sub_account_id, credit_limit FROM tenants
         WHERE status IN ('active', 'inactive') AND sub_account_id IS NOT NULL AND id > ? ORDER BY id LIMIT ?`,
        )
        .bind(opts.after, opts.limit),
    );
    return results.map((r) => ({ id: r.id, subAccountId: r.sub_account_id, creditLimit: r.credit_limit }));
  }

  /** Tenants still `provisioning` that were created before `createdBefore`. */
  async provisioning(opts: { after: string; createdBefore: number; limit: number }) {
    const { results } = await this.db.all<{ id: string; created_at: number }>(
      this.db
        .prepare(
          `SELECT id, created_at FROM tenants WHERE status = 'provisioning' AND id > ? AND created_at < ?
         ORDER BY id LIMIT ?`,
        )
        .bind(opts.after, opts.createdBefore, opts.limit),
    );
    return results.map((r) => ({ id: r.id, createdAt: r.created_at }));
  }

  /**
   * Identities of tenants not deactivated whose issuer names one of `hosts` (a coarse filter; the
   * caller applies the exact rule), a keyset page by tenant id after `after`.
   */
  async identitiesAt(hosts: readonly string[], opts: { after: string; limit: number }) {
    const { results } = await this.db.all<{
      id: string;
      name: string;
      status: string;
      issuer: string;
      audience: string | null;
      claim_name: string;
      claim_value: string;
    }>(
      this.db
        .prepare(
          `SELECT t.id, t.name, t.status, i.issuer, i.audience, i.claim_name, i.claim_value FROM tenant_identities i
           JOIN tenants t ON t.id = i.tenant_id
           WHERE t.status != 'deactivated' AND t.id > ?
             AND (${hosts.map(() => "instr(lower(i.issuer), ?) > 0").join(" OR ")})
           ORDER BY t.id LIMIT ?`,
        )
        .bind(opts.after, ...hosts, opts.limit),
    );
    return results.map((r) => ({
      tenantId: r.id,
      name: r.name,
      status: r.status,
      issuer: r.issuer,
      audience: r.audience === null ? null : (JSON.parse(r.audience) as string[]),
      claim: r.claim_name ? { name: r.claim_name, value: r.claim_value } : null,
    }));
  }

  /** Stored keys whose ciphertext does not start with `prefix` (i.e. not sealed under that KEK). */
  async sealedOutside(prefix: string, opts: { after: string; limit: number }) {
    const { results } = await this.db.all<{ id: string; key_ciphertext: string }>(
      this.db
        .prepare(
          `SELECT id, key_ciphertext FROM tenants
         WHERE key_ciphertext IS NOT NULL AND substr(key_ciphertext, 1, ?1) != ?2 AND id > ?3
         ORDER BY id LIMIT ?4`,
        )
        .bind(prefix.length, prefix, opts.after, opts.limit),
    );
    return results.map((r) => ({ id: r.id, sealed: r.key_ciphertext }));
  }

  /** Replaces a ciphertext only if it is still the one that was read (a rotation in between wins). */
  replaceSealedStatement(id: string, from: string, to: string): D1PreparedStatement {
    return this.db
      .prepare("UPDATE tenants SET key_ciphertext = ? WHERE id = ? AND key_ciphertext = ?")
      .bind(to, id, from);
  }

  async batch(statements: D1PreparedStatement[]): Promise<D1Result[]> {
    if (statements.length === 0) return [];
    return this.db.batch(statements);
  }

  /**
   * How many stored secrets (tenants' keys and webhook endpoints' secrets) each KEK sealed, by ciphertext
   * prefix (`prefixLength` characters of "v2.<kek id>."); "legacy" counts the older format.
   */
  async sealedByPrefix(prefixLength: number): Promise<Map<string, number>> {
    const { results } = await this.db.all<{ prefix: string; n: number }>(
      this.db
        .prepare(
          `SELECT CASE WHEN sealed LIKE 'v2.%' THEN substr(sealed, 1, ?) ELSE 'legacy' END AS prefix, COUNT(*) AS n
         FROM (SELECT key_ciphertext AS sealed FROM tenants WHERE key_ciphertext IS NOT NULL
               UNION ALL SELECT secret_ciphertext FROM webhooks
               UNION ALL SELECT secret_ciphertext FROM tenant_senders WHERE secret_ciphertext IS NOT NULL
               UNION ALL SELECT upstream_secret_ciphertext FROM tenant_senders WHERE upstream_secret_ciphertext IS NOT NULL)
         GROUP BY prefix`,
        )
        .bind(prefixLength),
    );
    return new Map(results.map((r) => [r.prefix, r.n]));
  }

  /**
   * Live tenants holding a key, with when that key was last stored: the latest key-changing entry
   * in the audit log (written in the same batch as the key itself), else the tenant's creation.
   */
  async keyAges(opts: { after: string; limit: number }) {
    const { results } = await this.db.all<{ id: string; key_stored_at: number }>(
      this.db
        .prepare(
          `SELECT t.id, COALESCE(
           (SELECT MAX(a.at) FROM audit_log a WHERE a.tenant_id = t.id AND a.action IN
             ('tenant.key.rotate', 'tenant.provision.completed', 'tenant.provision.repaired', 'tenant.import')),
           t.created_at) AS key_stored_at
         FROM tenants t
         WHERE t.status IN ('active', 'inactive') AND t.key_ciphertext IS NOT NULL AND t.id > ?
         ORDER BY t.id LIMIT ?`,
        )
        .bind(opts.after, opts.limit),
    );
    return results.map((r) => ({ id: r.id, keyStoredAt: r.key_stored_at }));
  }

  /** Of these tenant ids and sub-account ids, the ones some tenant holds (by its id or its sub-account). */
  async held(
    tenantIds: string[],
    subAccountIds: string[],
  ): Promise<{ tenantIds: Set<string>; subAccountIds: Set<string> }> {
    const { results } = await this.db.all<{ id: string; sub_account_id: string | null }>(
      this.db
        .prepare(
          `SELECT id, sub_account_id FROM tenants
         WHERE id IN (SELECT value FROM json_each(?1)) OR sub_account_id IN (SELECT value FROM json_each(?2))`,
        )
        .bind(JSON.stringify(tenantIds), JSON.stringify(subAccountIds)),
    );
    return {
      tenantIds: new Set(results.map((r) => r.id)),
      subAccountIds: new Set(results.flatMap((r) => (r.sub_account_id ? [r.sub_account_id] : []))),
    };
  }
}
