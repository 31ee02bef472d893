import { DEFAULT_PRICES, DEFAULT_TEAM_BALANCE } from "./env";
import { newId, randomToken, sha256Hex } from "./ids";

/** The sandbox's state, in the Durable Object's SQLite database. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sub_accounts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
  external_id TEXT, credit_limit INTEGER, metadata TEXT, status TEXT NOT NULL,
  total_spent INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, sub_account_id TEXT NOT NULL, name TEXT NOT NULL, environment TEXT NOT NULL,
  key_hash TEXT UNIQUE NOT NULL, key_prefix TEXT NOT NULL, permissions TEXT,
  created_at INTEGER NOT NULL, last_used_at INTEGER, revoked_at INTEGER);
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, account TEXT NOT NULL,
  idempotency_key TEXT, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS messages_idem ON messages (account, idempotency_key);
CREATE TABLE IF NOT EXISTS requests (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
  query TEXT NOT NULL, status INTEGER NOT NULL, sub_account_id TEXT, key_id TEXT, headers TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS charges (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, account TEXT NOT NULL, channel TEXT NOT NULL,
  cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS hooks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, name TEXT NOT NULL, status INTEGER NOT NULL,
  headers TEXT NOT NULL, body TEXT NOT NULL);
`;
const TABLES = ["settings", "sub_accounts", "api_keys", "messages", "requests", "charges", "hooks"];
const HOOKS_MAX = 1_000;
const DEFAULT_DELIVERY_DELAY_MS = 200;
/** Zavu's schedule: the 2nd attempt 1 s after the 1st, the 3rd 5 s after the 2nd. */
const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000];

/** The team's own limits (Zavu's 429 daily_limit_exceeded / a2p_limit_exceeded); null = none. */
export interface TeamLimits {
  /** Sends a UTC day, every account of the team together. */
  dailyLimit: number | null;
  /** SMS to +1 (US) numbers a UTC day (A2P 10DLC). */
  a2pLimit: number | null;
}

export interface ReceivedHook {
  seq: number;
  at: number;
  name: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}
const REQUEST_LOG_MAX = 10_000;

export interface SubAccountRow {
  id: string;
  name: string;
  external_id: string | null;
  credit_limit: number | null;
  metadata: string | null;
  status: "active" | "inactive";
  total_spent: number;
  created_at: string;
  seq: number;
}

export interface ApiKeyRow {
  id: string;
  sub_account_id: string;
  name: string;
  environment: "live" | "test";
  key_prefix: string;
  permissions: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** Who a request's key belongs to. */
export type Caller = { kind: "main" } | { kind: "sub"; subAccountId: string; keyId: string };

export interface LoggedRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  subAccountId: string | null;
  keyId: string | null;
  headers: Record<string, string>;
}

type Row = Record<string, SqlStorageValue>;

export class Store {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  private all<T>(query: string, ...params: SqlStorageValue[]): T[] {
    return this.sql.exec<Row>(query, ...params).toArray() as T[];
  }

  private one<T>(query: string, ...params: SqlStorageValue[]): T | undefined {
    return this.all<T>(query, ...params)[0];
  }

  reset(): void {
    for (const table of TABLES) this.sql.exec(`DELETE FROM ${table}`);
    this.sql.exec("DELETE FROM sqlite_sequence");
  }

  // ---- team settings -------------------------------------------------------------------

  private setting<T>(name: string, fallback: T): T {
    const row = this.one<{ value: string }>("SELECT value FROM settings WHERE name = ?", name);
    return row ? (JSON.parse(row.value) as T) : fallback;
  }

  private setSetting(name: string, value: unknown): void {
    this.sql.exec(
      "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      name,
      JSON.stringify(value),
    );
  }

  teamBalance(): number {
    return this.setting("balance", DEFAULT_TEAM_BALANCE);
  }

  setTeamBalance(cents: number): void {
    this.setSetting("balance", cents);
  }

  prices(): Record<string, number> {
    return { ...DEFAULT_PRICES, ...this.setting<Record<string, number>>("prices", {}) };
  }

  /**
   * Switches that make the sandbox behave like a lagging Zavu: `enforceLimits: false` stops it refusing
   * sends over a credit limit or the team balance; `costAtAccept: false` answers sends with `cost` and
   * `costTotal` null (the charge still lands in totalSpent and the balance).
   */
  behaviour(): { enforceLimits: boolean; costAtAccept: boolean } {
    return { enforceLimits: this.setting("enforceLimits", true), costAtAccept: this.setting("costAtAccept", true) };
  }

  setBehaviour(changes: { enforceLimits?: boolean; costAtAccept?: boolean }): void {
    if (changes.enforceLimits !== undefined) this.setSetting("enforceLimits", changes.enforceLimits);
    if (changes.costAtAccept !== undefined) this.setSetting("costAtAccept", changes.costAtAccept);
  }

  limits(): TeamLimits {
    return { dailyLimit: this.setting("dailyLimit", null), a2pLimit: this.setting("a2pLimit", null) };
  }

  setLimits(changes: Partial<TeamLimits>): void {
    if (changes.dailyLimit !== undefined) this.setSetting("dailyLimit", changes.dailyLimit);
    if (changes.a2pLimit !== undefined) this.setSetting("a2pLimit", changes.a2pLimit);
  }

  /** Sends (and US SMS) accepted today (UTC), for the team limits. */
  today(): { date: string; sends: number; a2p: number } {
    const date = new Date().toISOString().slice(0, 10);
    const counted = this.setting<{ date: string; sends: number; a2p: number } | null>("today", null);
    return counted?.date === date ? counted : { date, sends: 0, a2p: 0 };
  }

  countSend(a2p: boolean): void {
    const t = this.today();
    this.setSetting("today", { date: t.date, sends: t.sends + 1, a2p: t.a2p + (a2p ? 1 : 0) });
  }

  /**
   * Event timing: message.queued/sent/delivered fire 1x/2x/3x deliveryDelayMs after a send is accepted;
   * a failed webhook post is tried again after webhookRetryDelaysMs[0], then [1] (3 attempts in all).
   */
  webhookTiming(): { deliveryDelayMs: number; webhookRetryDelaysMs: number[] } {
    return {
      deliveryDelayMs: this.setting("deliveryDelayMs", DEFAULT_DELIVERY_DELAY_MS),
      webhookRetryDelaysMs: this.setting("webhookRetryDelaysMs", DEFAULT_RETRY_DELAYS_MS),
    };
  }

  setWebhookTiming(changes: { deliveryDelayMs?: number; webhookRetryDelaysMs?: number[] }): void {
    if (changes.deliveryDelayMs !== undefined) this.setSetting("deliveryDelayMs", changes.deliveryDelayMs);
    if (changes.webhookRetryDelaysMs !== undefined)
      this.setSetting("webhookRetryDelaysMs", changes.webhookRetryDelaysMs);
  }

  setPrices(prices: Record<string, number>): void {
    this.setSetting("prices", { ...this.setting<Record<string, number>>("prices", {}), ...prices });
  }

  // ---- keys ----------------------------------------------------------------------------

  async authenticate(key: string, mainKey: string): Promise<Caller | null> {
    if (timingSafeEqualText(key, mainKey)) return { kind: "main" };
    const row = this.one<{ id: string; sub_account_id: string }>(
      "SELECT id, sub_account_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
      await sha256Hex(key),
    );
    if (!row) return null;
    this.sql.exec("UPDATE api_keys SET last_used_at = ? WHERE id = ?", Date.now(), row.id);
    return { kind: "sub", subAccountId: row.sub_account_id, keyId: row.id };
  }

  async createKey(
    subAccountId: string,
    name: string,
    environment: "live" | "test",
    permissions: string[] | null,
  ): Promise<{ id: string; key: string; name: string; environment: "live" | "test" }> {
    const key = `zv_${environment}_sub_${randomToken(32)}`;
    const id = newId("key_");
    this.sql.exec(
      `INSERT INTO api_keys (id, sub_account_id, name, environment, key_hash, key_prefix, permissions, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      subAccountId,
      name,
      environment,
      await sha256Hex(key),
      key.slice(0, 16),
      permissions ? JSON.stringify(permissions) : null,
      Date.now(),
    );
    return { id, key, name, environment };
  }

  listKeys(subAccountId: string): ApiKeyRow[] {
    return this.all<ApiKeyRow>("SELECT * FROM api_keys WHERE sub_account_id = ? ORDER BY created_at, id", subAccountId);
  }

  /** Returns false when the key does not exist (or belongs to another sub-account). */
  revokeKey(subAccountId: string, keyId: string): boolean {
    const found = this.one("SELECT id FROM api_keys WHERE id = ? AND sub_account_id = ?", keyId, subAccountId);
    if (!found) return false;
    this.sql.exec("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", Date.now(), keyId);
    return true;
  }

  revokeAllKeys(subAccountId: string): number {
    const cursor = this.sql.exec(
      "UPDATE api_keys SET revoked_at = ? WHERE sub_account_id = ? AND revoked_at IS NULL",
      Date.now(),
      subAccountId,
    );
    return cursor.rowsWritten;
  }

  // ---- sub-accounts --------------------------------------------------------------------

  createSubAccount(input: {
    name: string;
    externalId: string | null;
    creditLimit: number | null;
    metadata: Record<string, unknown> | null;
  }): SubAccountRow {
    const id = newId("sa_");
    this.sql.exec(
      `INSERT INTO sub_accounts (id, name, external_id, credit_limit, metadata, status, created_at)
       VALUES (?, ?, ?, ?, ?, 'active', ?)`,
      id,
      input.name,
      input.externalId,
      input.creditLimit,
      input.metadata ? JSON.stringify(input.metadata) : null,
      new Date().toISOString(),
    );
    return this.subAccount(id)!;
  }

  subAccount(id: string): SubAccountRow | undefined {
    return this.one<SubAccountRow>("SELECT * FROM sub_accounts WHERE id = ?", id);
  }

  listSubAccounts(limit: number, afterSeq: number): SubAccountRow[] {
    return this.all<SubAccountRow>("SELECT * FROM sub_accounts WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit);
  }

  updateSubAccount(id: string, fields: Partial<Record<keyof SubAccountRow, SqlStorageValue>>): void {
    const names = Object.keys(fields);
    if (names.length === 0) return;
    this.sql.exec(
      `UPDATE sub_accounts SET ${names.map((n) => `${n} = ?`).join(", ")} WHERE id = ?`,
      ...names.map((n) => fields[n as keyof SubAccountRow] ?? null),
      id,
    );
  }

  /** Records a charge against the team balance and the sub-account's total, and by channel (GET /__sandbox/usage). */
  charge(subAccountId: string | null, cents: number, channel = "unknown"): void {
    this.setTeamBalance(this.teamBalance() - cents);
    if (subAccountId) {
      this.sql.exec("UPDATE sub_accounts SET total_spent = total_spent + ? WHERE id = ?", cents, subAccountId);
    }
    this.sql.exec(
      "INSERT INTO charges (at, account, channel, cents) VALUES (?, ?, ?, ?)",
      Date.now(),
      subAccountId ?? "main",
      channel,
      cents,
    );
  }

  /** Sends and what they cost, per account and channel (the sandbox's own record, for comparing usage). */
  usage(account?: string): Array<{ account: string; channel: string; sends: number; cents: number }> {
    return this.all(
      `SELECT account, channel, COUNT(*) AS sends, SUM(cents) AS cents FROM charges
       WHERE ?1 IS NULL OR account = ?1 GROUP BY account, channel ORDER BY account, channel`,
      account ?? null,
    );
  }

  // ---- webhook receiver ----------------------------------------------------------------

  logHook(entry: Omit<ReceivedHook, "seq" | "at">): void {
    this.sql.exec(
      "INSERT INTO hooks (at, name, status, headers, body) VALUES (?, ?, ?, ?, ?)",
      Date.now(),
      entry.name,
      entry.status,
      JSON.stringify(entry.headers),
      entry.body,
    );
    this.sql.exec("DELETE FROM hooks WHERE seq <= (SELECT MAX(seq) FROM hooks) - ?", HOOKS_MAX);
  }

  /** What arrived, oldest first. */
  hooks(name?: string): ReceivedHook[] {
    return this.all<Row>("SELECT * FROM hooks WHERE ?1 IS NULL OR name = ?1 ORDER BY seq", name ?? null).map((r) => ({
      seq: r.seq as number,
      at: r.at as number,
      name: r.name as string,
      status: r.status as number,
      headers: JSON.parse(r.headers as string),
      body: r.body as string,
    }));
  }

  clearHooks(): void {
    this.sql.exec("DELETE FROM hooks");
  }

  // ---- messages ------------------------------------------------------------------------

  messageByIdempotencyKey(account: string, key: string): Record<string, unknown> | undefined {
    const row = this.one<{ body: string }>(
      "SELECT body FROM messages WHERE account = ? AND idempotency_key = ?",
      account,
      key,
    );
    return row ? JSON.parse(row.body) : undefined;
  }

  insertMessage(
    account: string,
    idempotencyKey: string | null,
    message: { id: string; [field: string]: unknown },
  ): void {
    this.sql.exec(
      "INSERT INTO messages (id, account, idempotency_key, body) VALUES (?, ?, ?, ?)",
      message.id,
      account,
      idempotencyKey,
      JSON.stringify(message),
    );
  }

  /** Merges fields into a stored message (its status as its events fire). */
  updateMessage(account: string, id: string, fields: Record<string, unknown>): Record<string, unknown> | undefined {
    const message = this.message(account, id);
    if (!message) return undefined;
    const updated = { ...message, ...fields };
    this.sql.exec("UPDATE messages SET body = ? WHERE account = ? AND id = ?", JSON.stringify(updated), account, id);
    return updated;
  }

  message(account: string, id: string): Record<string, unknown> | undefined {
    const row = this.one<{ body: string }>("SELECT body FROM messages WHERE account = ? AND id = ?", account, id);
    return row ? JSON.parse(row.body) : undefined;
  }

  /** Newest first; `beforeSeq` is the cursor. */
  listMessages(account: string, limit: number, beforeSeq: number): { seq: number; body: Record<string, unknown> }[] {
    return this.all<{ seq: number; body: string }>(
      "SELECT seq, body FROM messages WHERE account = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
      account,
      beforeSeq,
      limit,
    ).map((r) => ({ seq: r.seq, body: JSON.parse(r.body) }));
  }

  // ---- request log ---------------------------------------------------------------------

  logRequest(entry: LoggedRequest): void {
    this.sql.exec(
      `INSERT INTO requests (at, method, path, query, status, sub_account_id, key_id, headers)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      Date.now(),
      entry.method,
      entry.path,
      entry.query,
      entry.status,
      entry.subAccountId,
      entry.keyId,
      JSON.stringify(entry.headers),
    );
    this.sql.exec("DELETE FROM requests WHERE seq <= (SELECT MAX(seq) FROM requests) - ?", REQUEST_LOG_MAX);
  }

  requests(limit: number, afterSeq: number): Array<LoggedRequest & { seq: number; at: number }> {
    return this.all<Row>("SELECT * FROM requests WHERE seq > ? ORDER BY seq DESC LIMIT ?", afterSeq, limit).map(
      (r) => ({
        seq: r.seq as number,
        at: r.at as number,
        method: r.method as string,
        path: r.path as string,
        query: r.query as string,
        status: r.status as number,
        subAccountId: r.sub_account_id as string | null,
        keyId: r.key_id as string | null,
        headers: JSON.parse(r.headers as string),
      }),
    );
  }

  clearRequests(): void {
    this.sql.exec("DELETE FROM requests");
  }
}

function timingSafeEqualText(a: string, b: string): boolean {
  const enc = new TextEncoder();
  const x = enc.encode(a);
  const y = enc.encode(b);
  if (x.byteLength !== y.byteLength) return false;
  return crypto.subtle.timingSafeEqual(x, y);
}
