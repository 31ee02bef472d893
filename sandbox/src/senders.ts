import { newId } from "./ids";
import { allRows, oneRow } from "./sql";

/** Senders and the phone numbers accounts own ("main" or a sub-account id), in SQLite. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS phone_numbers (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, account TEXT NOT NULL,
  phone_number TEXT UNIQUE NOT NULL, name TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS senders (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, account TEXT NOT NULL, name TEXT NOT NULL,
  phone_number TEXT NOT NULL DEFAULT '', is_default INTEGER NOT NULL DEFAULT 0,
  webhook_url TEXT, webhook_events TEXT NOT NULL DEFAULT '[]', webhook_active INTEGER NOT NULL DEFAULT 1,
  signature_version TEXT NOT NULL DEFAULT 'v2', secret TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
`;
const TABLES = ["phone_numbers", "senders"];

export type SignatureVersion = "v1" | "v1+v2" | "v2";

export interface SenderRow {
  seq: number;
  id: string;
  account: string;
  name: string;
  phone_number: string;
  is_default: number;
  webhook_url: string | null;
  webhook_events: string;
  webhook_active: number;
  signature_version: SignatureVersion;
  secret: string | null;
  created_at: string;
  updated_at: string;
}

export interface PhoneNumberRow {
  seq: number;
  id: string;
  account: string;
  phone_number: string;
  name: string | null;
  created_at: string;
  updated_at: string;
}

/** "whsec_" + 32 random bytes, base64url. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")}`;
}

export class SenderStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  reset(): void {
    for (const table of TABLES) this.sql.exec(`DELETE FROM ${table}`);
  }

  // ---- senders -------------------------------------------------------------------------

  sender(account: string, id: string): SenderRow | undefined {
    return oneRow<SenderRow>(this.sql, "SELECT * FROM senders WHERE account = ? AND id = ?", account, id);
  }

  /** Any account's sender (the control API and the event dispatcher). */
  senderById(id: string): SenderRow | undefined {
    return oneRow<SenderRow>(this.sql, "SELECT * FROM senders WHERE id = ?", id);
  }

  defaultSender(account: string): SenderRow | undefined {
    return oneRow<SenderRow>(this.sql, "SELECT * FROM senders WHERE account = ? AND is_default = 1", account);
  }

  senderByPhone(account: string, phoneNumber: string): SenderRow | undefined {
    return oneRow<SenderRow>(
      this.sql,
      "SELECT * FROM senders WHERE account = ? AND phone_number = ?",
      account,
      phoneNumber,
    );
  }

  listSenders(account: string, limit: number, afterSeq: number): SenderRow[] {
    return allRows<SenderRow>(
      this.sql,
      "SELECT * FROM senders WHERE account = ? AND seq > ? ORDER BY seq LIMIT ?",
      account,
      afterSeq,
      limit,
    );
  }

  createSender(
    account: string,
    input: {
      name: string;
      phoneNumber: string;
      setAsDefault: boolean;
      webhookUrl: string | null;
      webhookEvents: string[];
      signatureVersion: SignatureVersion;
    },
  ): SenderRow {
    const id = newId("snd_");
    const now = new Date().toISOString();
    // The account's first sender is its default.
    const isDefault = input.setAsDefault || !this.defaultSender(account);
    if (isDefault) this.sql.exec("UPDATE senders SET is_default = 0 WHERE account = ?", account);
    this.sql.exec(
      `INSERT INTO senders (id, account, name, phone_number, is_default, webhook_url, webhook_events, webhook_active,
         signature_version, secret, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
      id,
      account,
      input.name,
      input.phoneNumber,
      isDefault ? 1 : 0,
      input.webhookUrl,
      JSON.stringify(input.webhookEvents),
      input.signatureVersion,
      input.webhookUrl ? newWebhookSecret() : null,
      now,
      now,
    );
    return this.senderById(id)!;
  }

  updateSender(id: string, fields: Partial<Record<keyof SenderRow, SqlStorageValue>>): SenderRow {
    const names = Object.keys(fields);
    this.sql.exec(
      `UPDATE senders SET ${[...names.map((n) => `${n} = ?`), "updated_at = ?"].join(", ")} WHERE id = ?`,
      ...names.map((n) => fields[n as keyof SenderRow] ?? null),
      new Date().toISOString(),
      id,
    );
    return this.senderById(id)!;
  }

  makeDefault(sender: SenderRow): void {
    this.sql.exec("UPDATE senders SET is_default = (id = ?) WHERE account = ?", sender.id, sender.account);
  }

  /** Deleting the default sender promotes the account's oldest remaining sender, if any. */
  deleteSender(sender: SenderRow): void {
    this.sql.exec("DELETE FROM senders WHERE id = ?", sender.id);
    if (sender.is_default) {
      this.sql.exec(
        `UPDATE senders SET is_default = 1
         WHERE id = (SELECT id FROM senders WHERE account = ? ORDER BY seq LIMIT 1)`,
        sender.account,
      );
    }
  }

  // ---- phone numbers -------------------------------------------------------------------

  phoneNumber(account: string, id: string): PhoneNumberRow | undefined {
    return oneRow<PhoneNumberRow>(this.sql, "SELECT * FROM phone_numbers WHERE account = ? AND id = ?", account, id);
  }

  ownedNumber(account: string, phoneNumber: string): PhoneNumberRow | undefined {
    return oneRow<PhoneNumberRow>(
      this.sql,
      "SELECT * FROM phone_numbers WHERE account = ? AND phone_number = ?",
      account,
      phoneNumber,
    );
  }

  /** Whether anyone in the team owns the number. */
  isOwned(phoneNumber: string): boolean {
    return oneRow(this.sql, "SELECT id FROM phone_numbers WHERE phone_number = ?", phoneNumber) !== undefined;
  }

  /** The numbers someone in the team owns that start with the prefix. */
  ownedWithPrefix(prefix: string): Set<string> {
    return new Set(
      allRows<{ phone_number: string }>(
        this.sql,
        "SELECT phone_number FROM phone_numbers WHERE phone_number LIKE ? || '%'",
        prefix,
      ).map((r) => r.phone_number),
    );
  }

  listPhoneNumbers(account: string, limit: number, afterSeq: number): PhoneNumberRow[] {
    return allRows<PhoneNumberRow>(
      this.sql,
      "SELECT * FROM phone_numbers WHERE account = ? AND seq > ? ORDER BY seq LIMIT ?",
      account,
      afterSeq,
      limit,
    );
  }

  buyPhoneNumber(account: string, phoneNumber: string, name: string | null): PhoneNumberRow {
    const id = newId("pn_");
    const now = new Date().toISOString();
    this.sql.exec(
      "INSERT INTO phone_numbers (id, account, phone_number, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      account,
      phoneNumber,
      name,
      now,
      now,
    );
    return this.phoneNumber(account, id)!;
  }

  renamePhoneNumber(id: string, name: string | null): void {
    this.sql.exec("UPDATE phone_numbers SET name = ?, updated_at = ? WHERE id = ?", name, new Date().toISOString(), id);
  }

  releasePhoneNumber(id: string): void {
    this.sql.exec("DELETE FROM phone_numbers WHERE id = ?", id);
  }
}
