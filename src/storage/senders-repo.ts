import type { Counters } from "../lib/counters";
import type { SignatureVersion } from "../lib/zavu-signature";
import { CountedDb } from "./db";
import type { TenantStatus } from "./tenants";

/** A sender a tenant made through the gateway, with where and how its events go to the customer. */
export interface SenderRecord {
  /** The relay's path segment (/relay/zavu/{relayId}): 192 random bits, base64url. */
  relayId: string;
  tenantId: string;
  /** Zavu's sender id; null while Zavu is still creating the sender. */
  senderId: string | null;
  /** The customer's URL (null: the customer receives no events). */
  webhookUrl: string | null;
  /** The events the customer asked for (Zavu is asked for these and the delivery outcomes). */
  webhookEvents: string[];
  webhookActive: boolean;
  signatureVersion: SignatureVersion;
  /** The customer's signing secret, sealed; associated data `customerSecretOwner(relayId)`. */
  secretCiphertext: string | null;
  /** Zavu's signing secret for the relay, sealed; associated data `upstreamSecretOwner(relayId)`. */
  upstreamSecretCiphertext: string | null;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

/** A relay's sender and its tenant's sub-account and status (null: the tenant is gone). */
export interface RelayTarget {
  sender: SenderRecord;
  /** Null when the tenant is gone. */
  tenant: RelayTenant | null;
}

/** What the relay and the tenant's event relay need of a tenant. */
export interface RelayTenant {
  id: string;
  status: TenantStatus;
  subAccountId: string | null;
  creditLimit: number | null;
}

/** The two columns holding a sealed secret. */
export type SealedColumn = "secret_ciphertext" | "upstream_secret_ciphertext";

/** What each sealed secret is bound to: a ciphertext moved to another row, or swapped between the two columns, does not open. */
export const customerSecretOwner = (relayId: string) => `sender:${relayId}`;
export const upstreamSecretOwner = (relayId: string) => `zavu-sender:${relayId}`;

interface SenderRow {
  relay_id: string;
  tenant_id: string;
  sender_id: string | null;
  webhook_url: string | null;
  webhook_events: string;
  webhook_active: number;
  signature_version: SignatureVersion;
  secret_ciphertext: string | null;
  upstream_secret_ciphertext: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

const toRecord = (r: SenderRow): SenderRecord => ({
  relayId: r.relay_id,
  tenantId: r.tenant_id,
  senderId: r.sender_id,
  webhookUrl: r.webhook_url,
  webhookEvents: JSON.parse(r.webhook_events) as string[],
  webhookActive: r.webhook_active === 1,
  signatureVersion: r.signature_version,
  secretCiphertext: r.secret_ciphertext,
  upstreamSecretCiphertext: r.upstream_secret_ciphertext,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
});

/** The fields a change may set (the relay id, the tenant and the creation time never change). */
export type SenderChange = Partial<
  Pick<
    SenderRecord,
    | "senderId"
    | "webhookUrl"
    | "webhookEvents"
    | "webhookActive"
    | "signatureVersion"
    | "secretCiphertext"
    | "upstreamSecretCiphertext"
    | "deletedAt"
  >
>;

const COLUMNS: Record<keyof SenderChange, string> = {
  senderId: "sender_id",
  webhookUrl: "webhook_url",
  webhookEvents: "webhook_events",
  webhookActive: "webhook_active",
  signatureVersion: "signature_version",
  secretCiphertext: "secret_ciphertext",
  upstreamSecretCiphertext: "upstream_secret_ciphertext",
  deletedAt: "deleted_at",
};

function columnValue(key: keyof SenderChange, value: unknown): unknown {
  if (key === "webhookEvents") return JSON.stringify(value);
  if (key === "webhookActive") return value ? 1 : 0;
  return value ?? null;
}

/** The tenant_senders table. */
export class SenderRepo {
  private readonly db: CountedDb;

  constructor(d1: D1Database, counters: Counters) {
    this.db = new CountedDb(d1, counters);
  }

  async insert(s: SenderRecord): Promise<void> {
    await this.db.run(
      this.db
        .prepare(
          `INSERT INTO tenant_senders (relay_id, tenant_id, sender_id, webhook_url, webhook_events, webhook_active,
             signature_version, secret_ciphertext, upstream_secret_ciphertext, created_at, updated_at, deleted_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .bind(
          s.relayId,
          s.tenantId,
          s.senderId,
          s.webhookUrl,
          JSON.stringify(s.webhookEvents),
          s.webhookActive ? 1 : 0,
          s.signatureVersion,
          s.secretCiphertext,
          s.upstreamSecretCiphertext,
          s.createdAt,
          s.updatedAt,
          s.deletedAt,
        ),
    );
  }

  async byRelayId(relayId: string): Promise<SenderRecord | null> {
    const row = await this.db.first<SenderRow>(
      this.db.prepare("SELECT * FROM tenant_senders WHERE relay_id = ?").bind(relayId),
    );
    return row ? toRecord(row) : null;
  }

  /** A relay's sender with what the relay checks of its tenant, in one query. */
  async relayTarget(relayId: string): Promise<RelayTarget | null> {
    const row = await this.db.first<
      SenderRow & {
        t_id: string | null;
        sub_account_id: string | null;
        status: TenantStatus | null;
        credit_limit: number | null;
      }
    >(
      this.db
        .prepare(
          `SELECT s.*, t.id AS t_id, t.sub_account_id, t.status, t.credit_limit
           FROM tenant_senders s LEFT JOIN tenants t ON t.id = s.tenant_id WHERE s.relay_id = ?`,
        )
        .bind(relayId),
    );
    if (!row) return null;
    const tenant =
      row.t_id === null
        ? null
        : { id: row.t_id, status: row.status!, subAccountId: row.sub_account_id, creditLimit: row.credit_limit };
    return { sender: toRecord(row), tenant };
  }

  async bySenderId(senderId: string): Promise<SenderRecord | null> {
    const row = await this.db.first<SenderRow>(
      this.db.prepare("SELECT * FROM tenant_senders WHERE sender_id = ?").bind(senderId),
    );
    return row ? toRecord(row) : null;
  }

  /** The senders among these relay ids (at most 90: D1 binds 100 parameters a statement). */
  async byRelayIds(relayIds: string[]): Promise<SenderRecord[]> {
    return this.among("relay_id", relayIds);
  }

  /** The senders among these Zavu sender ids (at most 90). */
  async bySenderIds(senderIds: string[]): Promise<SenderRecord[]> {
    return this.among("sender_id", senderIds);
  }

  private async among(column: "relay_id" | "sender_id", values: string[]): Promise<SenderRecord[]> {
    const unique = [...new Set(values)];
    if (unique.length === 0) return [];
    if (unique.length > 90) throw new Error("at most 90 ids a query");
    const { results } = await this.db.all<SenderRow>(
      this.db
        .prepare(`SELECT * FROM tenant_senders WHERE ${column} IN (${unique.map(() => "?").join(",")})`)
        .bind(...unique),
    );
    return results.map(toRecord);
  }

  /** A tenant's senders (deleted ones included), oldest first. */
  async forTenant(tenantId: string, limit = 1_000): Promise<SenderRecord[]> {
    const { results } = await this.db.all<SenderRow>(
      this.db
        .prepare("SELECT * FROM tenant_senders WHERE tenant_id = ? ORDER BY created_at, relay_id LIMIT ?")
        .bind(tenantId, limit),
    );
    return results.map(toRecord);
  }

  /** Applies a change and stamps updated_at; false when no such sender. */
  async update(relayId: string, change: SenderChange, now = Date.now()): Promise<boolean> {
    const keys = (Object.keys(change) as (keyof SenderChange)[]).filter((k) => change[k] !== undefined);
    const sets = [...keys.map((k) => `${COLUMNS[k]} = ?`), "updated_at = ?"];
    const values = [...keys.map((k) => columnValue(k, change[k])), now];
    const result = await this.db.run(
      this.db.prepare(`UPDATE tenant_senders SET ${sets.join(", ")} WHERE relay_id = ?`).bind(...values, relayId),
    );
    return result.meta.changes > 0;
  }

  /**
   * Senders whose secret in `column` is not sealed under `prefix` (the current key-encryption key), by
   * relay id: what a re-seal still has to move.
   */
  async sealedOutside(column: SealedColumn, prefix: string, opts: { after: string; limit: number }) {
    const { results } = await this.db.all<{ relay_id: string; sealed: string }>(
      this.db
        .prepare(
          `SELECT relay_id, ${column} AS sealed FROM tenant_senders
           WHERE ${column} IS NOT NULL AND substr(${column}, 1, ?1) != ?2 AND relay_id > ?3 ORDER BY relay_id LIMIT ?4`,
        )
        .bind(prefix.length, prefix, opts.after, opts.limit),
    );
    return results.map((r) => ({ id: r.relay_id, sealed: r.sealed }));
  }

  /** Replaces a sealed secret only if it is still the one that was read. */
  replaceSealedStatement(column: SealedColumn, relayId: string, from: string, to: string): D1PreparedStatement {
    return this.db
      .prepare(`UPDATE tenant_senders SET ${column} = ? WHERE relay_id = ? AND ${column} = ?`)
      .bind(to, relayId, from);
  }

  /** A sender row Zavu never finished creating. */
  async remove(relayId: string): Promise<void> {
    await this.db.run(
      this.db.prepare("DELETE FROM tenant_senders WHERE relay_id = ? AND sender_id IS NULL").bind(relayId),
    );
  }
}
