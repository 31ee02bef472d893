import type { Counters } from "../lib/counters";
import type { Role } from "../lib/roles";
import { CountedDb } from "./db";

/** An admin API key as stored (never its secret: only the secret's SHA-256). */
export interface AdminKeyRow {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

/** What an isolate keeps about a verified admin key or staff member (src/state.ts principals). */
export interface CachedPrincipal {
  /** null: a person Access let in who has no role here. */
  role: Role | null;
  actor: string;
  keyId?: string;
  expiresAt: number | null;
}

export interface StaffRow {
  email: string;
  role: Role;
  updatedAt: number;
  updatedBy: string;
}

type KeyRecord = {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  last_used_at: number | null;
};

const keyOf = (r: KeyRecord): AdminKeyRow => ({
  id: r.id,
  name: r.name,
  role: r.role,
  prefix: r.prefix,
  createdAt: r.created_at,
  createdBy: r.created_by,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
});

const KEY_COLUMNS = "id, name, role, prefix, created_at, created_by, expires_at, last_used_at";

/** Admin API keys and staff roles in D1 (tables admin_api_keys and staff). */
export class TeamRepo {
  private readonly db: CountedDb;

  constructor(
    private readonly d1: D1Database,
    counters: Counters,
  ) {
    this.db = new CountedDb(d1, counters);
  }

  insertKey(row: AdminKeyRow, secretHash: string): D1PreparedStatement {
    return this.d1
      .prepare(
        "INSERT INTO admin_api_keys (id, name, role, prefix, secret_hash, created_at, created_by, expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
      )
      .bind(row.id, row.name, row.role, row.prefix, secretHash, row.createdAt, row.createdBy, row.expiresAt);
  }

  deleteKey(id: string): D1PreparedStatement {
    return this.d1.prepare("DELETE FROM admin_api_keys WHERE id = ?").bind(id);
  }

  async keyByHash(secretHash: string): Promise<AdminKeyRow | null> {
    const row = await this.db.first<KeyRecord>(
      this.d1.prepare(`SELECT ${KEY_COLUMNS} FROM admin_api_keys WHERE secret_hash = ?`).bind(secretHash),
    );
    return row ? keyOf(row) : null;
  }

  async keyById(id: string): Promise<AdminKeyRow | null> {
    const row = await this.db.first<KeyRecord>(
      this.d1.prepare(`SELECT ${KEY_COLUMNS} FROM admin_api_keys WHERE id = ?`).bind(id),
    );
    return row ? keyOf(row) : null;
  }

  /** Every key, newest first (a team has tens of keys, not thousands: at most 1,000 are listed). */
  async listKeys(): Promise<AdminKeyRow[]> {
    const { results } = await this.db.all<KeyRecord>(
      this.d1.prepare(`SELECT ${KEY_COLUMNS} FROM admin_api_keys ORDER BY id DESC LIMIT 1000`),
    );
    return results.map(keyOf);
  }

  /** Marks a key used now, unless a write less than `everyMs` ago did (one write a minute per key at most). */
  touchKey(id: string, now: number, everyMs: number): Promise<D1Result> {
    return this.db.run(
      this.d1
        .prepare(
          "UPDATE admin_api_keys SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?3)",
        )
        .bind(now, id, now - everyMs),
    );
  }

  async staff(email: string): Promise<StaffRow | null> {
    const row = await this.db.first<{ email: string; role: Role; updated_at: number; updated_by: string }>(
      this.d1.prepare("SELECT email, role, updated_at, updated_by FROM staff WHERE email = ?").bind(email),
    );
    return row ? { email: row.email, role: row.role, updatedAt: row.updated_at, updatedBy: row.updated_by } : null;
  }

  async listStaff(): Promise<StaffRow[]> {
    const { results } = await this.db.all<{ email: string; role: Role; updated_at: number; updated_by: string }>(
      this.d1.prepare("SELECT email, role, updated_at, updated_by FROM staff ORDER BY email LIMIT 1000"),
    );
    return results.map((r) => ({ email: r.email, role: r.role, updatedAt: r.updated_at, updatedBy: r.updated_by }));
  }

  putStaff(row: StaffRow): D1PreparedStatement {
    return this.d1
      .prepare(
        "INSERT INTO staff (email, role, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (email) DO UPDATE SET role = ?2, updated_at = ?3, updated_by = ?4",
      )
      .bind(row.email, row.role, row.updatedAt, row.updatedBy);
  }

  deleteStaff(email: string): D1PreparedStatement {
    return this.d1.prepare("DELETE FROM staff WHERE email = ?").bind(email);
  }
}
