import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { createCounters } from "../lib/counters";
import type { QuotaClaimCount, UsageRow } from "../storage/usage-repo";
import { UsageRepo } from "../storage/usage-repo";
import { addInto } from "./rows";

/**
 * Counts wait this long in a shard before they are written to D1 together: rows written are one per
 * tenant, day and channel seen in the window, so with 10,000 tenants sending ~1,400 requests a second
 * a 5 s window wrote ~0.7 rows per request and a 60 s one ~0.12. Readers flush first, so none waits.
 */
const FLUSH_DELAY_MS = 60_000;
/** Rows per D1 batch (each row is one or two statements). */
const CHUNK = 100;
/**
 * Batches are kept as they come and added into the pending rows once this many rows and claims wait
 * (or at the flush, or before a read). With 10,000 tenants each sending about once in 7 s, adding
 * every batch's rows as it came (~1,500 upserts and ~1,500 claims a second, into tables of 10,000
 * rows) cost ~170 µs of workerd CPU per request; a batch stored as it came is a few appended rows.
 */
const FOLD_AT_ITEMS = 50_000;
/** JSON characters per inbox entry at most (a stored value may have 2 MB): a row or claim is ~240. */
const INBOX_CHUNK_CHARS = 256 * 1024;
/** Batch ids are remembered this long: an isolate retries a batch within seconds. */
const KEEP_BATCH_IDS_MS = 60 * 60_000;

export interface ShardQuotaCounts {
  heldSends: number;
  claimed: number;
  byClaim: Record<string, { sent: number; unknown: number }>;
}

type Stored = {
  tenant_id: string;
  date: string;
  channel: string;
  sends: number;
  cost_cents: number;
  estimated_cents: number;
  refusals: string | null;
  delivered: number;
  failed: number;
};

/**
 * A usage shard: isolates hand it their counts (a batch a second at most each), it keeps them in its
 * own storage the moment it acknowledges them, and writes them to D1 a few seconds later in batches.
 * Every step is exactly once: a batch id it has applied is ignored, and each D1 write carries a flush
 * id that D1 refuses twice (see UsageRepo.add), so a crash between writing D1 and forgetting the rows
 * here repeats nothing.
 */
export class UsageShard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly counters = createCounters();
  private flushing: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS pending (
        tenant_id TEXT NOT NULL, date TEXT NOT NULL, channel TEXT NOT NULL, flush INTEGER NOT NULL DEFAULT 0,
        sends INTEGER NOT NULL, cost_cents INTEGER NOT NULL, estimated_cents INTEGER NOT NULL, refusals TEXT,
        delivered INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, date, channel, flush));
      CREATE TABLE IF NOT EXISTS batches (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS inbox (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, items TEXT NOT NULL,
        n INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS quota_claims (
        tenant_id TEXT NOT NULL, date TEXT NOT NULL, claim_id TEXT NOT NULL,
        sent INTEGER NOT NULL DEFAULT 0, unknown INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, date, claim_id));
      CREATE INDEX IF NOT EXISTS quota_claims_by_date ON quota_claims (date);
      CREATE INDEX IF NOT EXISTS batches_by_at ON batches (at);
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`);
    // A shard created before delivery outcomes has its table without their columns: added once.
    const columns = new Set(
      this.sql
        .exec<{ name: string }>("PRAGMA table_info(pending)")
        .toArray()
        .map((c) => c.name),
    );
    for (const column of ["delivered", "failed"]) {
      if (!columns.has(column)) this.sql.exec(`ALTER TABLE pending ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0`);
    }
  }

  /**
   * Counts from an isolate, and the quota claims its sends were made under. Once this returns they are
   * stored here; the same batch id again changes nothing. They are kept as they came (the inbox) and
   * added into the pending rows in bulk (see fold).
   */
  async record(batchId: string, rows: UsageRow[], claims: QuotaClaimCount[] = []): Promise<void> {
    const now = Date.now();
    if (this.sql.exec("SELECT 1 FROM batches WHERE id = ?", batchId).toArray().length === 0) {
      finiteCounts(rows, claims);
      this.ctx.storage.transactionSync(() => {
        for (const [kind, items] of [
          ["rows", rows],
          ["claims", claims],
        ] as const) {
          for (const part of chunksOf(items)) {
            this.sql.exec("INSERT INTO inbox (kind, items, n) VALUES (?, ?, ?)", kind, part.json, part.n);
          }
        }
        this.sql.exec("INSERT INTO batches (id, at) VALUES (?, ?)", batchId, now);
        this.sql.exec("DELETE FROM batches WHERE at < ?", now - KEEP_BATCH_IDS_MS);
      });
    }
    // Also for a batch seen before: its first delivery may have stored it and failed before this.
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(now + FLUSH_DELAY_MS);
    if (this.countInbox() >= FOLD_AT_ITEMS) this.fold();
  }

  /** Rows and claims in the inbox: a sum over its few entries (each holds up to INBOX_CHUNK_CHARS). */
  private countInbox(): number {
    return this.sql.exec<{ n: number }>("SELECT COALESCE(SUM(n), 0) AS n FROM inbox").one().n;
  }

  /**
   * Adds the inbox into the pending rows and claims, in one transaction: each tenant, day and channel
   * (and each claim) once, however many batches carried it. Run before anything reads them.
   */
  private fold(): void {
    const entries = this.sql
      .exec<{ seq: number; kind: string; items: string }>("SELECT seq, kind, items FROM inbox ORDER BY seq")
      .toArray();
    if (entries.length === 0) return;
    const rows = new Map<string, UsageRow>();
    const claims = new Map<string, QuotaClaimCount>();
    for (const entry of entries) {
      if (entry.kind === "claims") {
        for (const c of JSON.parse(entry.items) as QuotaClaimCount[]) {
          const key = `${c.tenantId} ${c.date} ${c.claimId}`;
          const sum = claims.get(key);
          if (sum) {
            sum.sent += c.sent;
            sum.unknown += c.unknown;
          } else claims.set(key, c);
        }
      } else {
        for (const r of JSON.parse(entry.items) as UsageRow[]) {
          const key = `${r.tenantId} ${r.date} ${r.channel}`;
          const sum = rows.get(key);
          if (sum) addInto(sum, r);
          else rows.set(key, r);
        }
      }
    }
    const last = entries[entries.length - 1]!.seq;
    this.ctx.storage.transactionSync(() => {
      for (const c of claims.values()) this.addClaim(c);
      for (const row of rows.values()) {
        if (row.refusals) this.mergeRow(row);
        else this.addRow(row);
      }
      this.sql.exec("DELETE FROM inbox WHERE seq <= ?", last);
    });
  }

  private addClaim(c: QuotaClaimCount): void {
    this.sql.exec(
      `INSERT INTO quota_claims (tenant_id, date, claim_id, sent, unknown) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, date, claim_id) DO UPDATE SET sent = sent + excluded.sent,
         unknown = unknown + excluded.unknown`,
      c.tenantId,
      c.date,
      c.claimId,
      c.sent,
      c.unknown,
    );
  }

  /** Counts added to the row in one statement (most rows: sends, no refusals). */
  private addRow(row: UsageRow): void {
    this.sql.exec(
      `INSERT INTO pending (tenant_id, date, channel, flush, sends, cost_cents, estimated_cents, refusals, delivered,
         failed)
       VALUES (?, ?, ?, 0, ?, ?, ?, NULL, ?, ?)
       ON CONFLICT (tenant_id, date, channel, flush) DO UPDATE SET sends = sends + excluded.sends,
         cost_cents = cost_cents + excluded.cost_cents, estimated_cents = estimated_cents + excluded.estimated_cents,
         delivered = delivered + excluded.delivered, failed = failed + excluded.failed`,
      row.tenantId,
      row.date,
      row.channel,
      row.sends,
      row.costCents,
      row.estimatedCents,
      row.delivered ?? 0,
      row.failed ?? 0,
    );
  }

  /** A row with refusals: its codes merged into the stored ones (read, added, written). */
  private mergeRow(row: UsageRow): void {
    const existing = this.sql
      .exec<Stored>(
        "SELECT * FROM pending WHERE tenant_id = ? AND date = ? AND channel = ? AND flush = 0",
        row.tenantId,
        row.date,
        row.channel,
      )
      .toArray()[0];
    const sum: UsageRow = existing
      ? {
          ...row,
          sends: existing.sends,
          costCents: existing.cost_cents,
          estimatedCents: existing.estimated_cents,
          refusals: existing.refusals ? JSON.parse(existing.refusals) : null,
          delivered: existing.delivered,
          failed: existing.failed,
        }
      : { ...row, sends: 0, costCents: 0, estimatedCents: 0, refusals: null, delivered: 0, failed: 0 };
    addInto(sum, row);
    this.sql.exec(
      `INSERT INTO pending (tenant_id, date, channel, flush, sends, cost_cents, estimated_cents, refusals, delivered,
         failed)
       VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, date, channel, flush) DO UPDATE SET sends = excluded.sends,
         cost_cents = excluded.cost_cents, estimated_cents = excluded.estimated_cents, refusals = excluded.refusals,
         delivered = excluded.delivered, failed = excluded.failed`,
      sum.tenantId,
      sum.date,
      sum.channel,
      sum.sends,
      sum.costCents,
      sum.estimatedCents,
      sum.refusals ? JSON.stringify(sum.refusals) : null,
      sum.delivered ?? 0,
      sum.failed ?? 0,
    );
  }

  /** Writes everything held here to D1 now (readers call it first, so they see every acknowledged count). */
  async flush(): Promise<void> {
    // A flush already running may have read the rows before the caller's last batch came: wait for it, then flush.
    if (this.flushing) await this.flushing.catch(() => undefined);
    this.flushing ??= this.writeToD1().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  override async alarm(): Promise<void> {
    await this.flush();
    // Batches that came during the D1 write wait in the inbox.
    const left = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending").one().n + this.countInbox();
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + FLUSH_DELAY_MS);
  }

  /**
   * A tenant's day as its quota ledger reads it (see quotaRecords): accepted sends held here (written
   * to D1 or not yet), how many sends quota claims made, and what the claims `ids` came to. Claims are
   * kept here, never in D1, until their day is two days old.
   */
  async quotaCounts(tenantId: string, date: string, ids: string[]): Promise<ShardQuotaCounts> {
    this.fold();
    const one = (sql: string) => this.sql.exec<{ n: number }>(sql, tenantId, date).one().n;
    const heldSends = one("SELECT COALESCE(SUM(sends), 0) AS n FROM pending WHERE tenant_id = ? AND date = ?");
    const claimed = one("SELECT COALESCE(SUM(sent), 0) AS n FROM quota_claims WHERE tenant_id = ? AND date = ?");
    const byClaim: ShardQuotaCounts["byClaim"] = {};
    for (const id of ids) {
      const row = this.sql
        .exec<{ sent: number; unknown: number }>(
          "SELECT sent, unknown FROM quota_claims WHERE tenant_id = ? AND date = ? AND claim_id = ?",
          tenantId,
          date,
          id,
        )
        .toArray()[0];
      if (row) byClaim[id] = { sent: row.sent, unknown: row.unknown };
    }
    return { heldSends, claimed, byClaim };
  }

  /** Rows held here (for tests and stats). */
  async held(): Promise<number> {
    this.fold();
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending").one().n;
  }

  /** Rows and claims stored as they came, not yet added up (for tests and stats). */
  async waiting(): Promise<number> {
    return this.countInbox();
  }

  private async writeToD1(): Promise<void> {
    const repo = new UsageRepo(this.env.DB, this.counters);
    // A flush that stopped half way goes first, with the same ids; then everything newer, as the next one.
    this.fold();
    let seq = this.meta("open");
    if (seq === 0) {
      if (this.sql.exec("SELECT 1 FROM pending WHERE flush = 0 LIMIT 1").toArray().length === 0) return;
      seq = this.meta("seq") + 1;
      this.setMeta("seq", seq);
      this.setMeta("open", seq);
      this.sql.exec("UPDATE pending SET flush = ? WHERE flush = 0", seq);
    }
    const rows = this.sql
      .exec<Stored>("SELECT * FROM pending WHERE flush = ? ORDER BY tenant_id, date, channel", seq)
      .toArray();
    const now = Date.now();
    for (let i = 0; i * CHUNK < rows.length; i++) {
      const chunk = rows.slice(i * CHUNK, (i + 1) * CHUNK).map((r) => ({
        tenantId: r.tenant_id,
        date: r.date,
        channel: r.channel,
        sends: r.sends,
        costCents: r.cost_cents,
        estimatedCents: r.estimated_cents,
        refusals: r.refusals ? (JSON.parse(r.refusals) as Record<string, number>) : null,
        delivered: r.delivered,
        failed: r.failed,
      }));
      await repo.add(`${this.ctx.id.toString()}:${seq}:${i}`, chunk, now);
    }
    this.sql.exec("DELETE FROM pending WHERE flush = ?", seq);
    this.setMeta("open", 0);
    if (seq % 100 === 0) await repo.forgetFlushes(now - 7 * 86_400_000);
    this.sql.exec("DELETE FROM quota_claims WHERE date < ?", new Date(now - 2 * 86_400_000).toISOString().slice(0, 10));
  }

  private meta(name: string): number {
    return this.sql.exec<{ value: number }>("SELECT value FROM meta WHERE name = ?", name).toArray()[0]?.value ?? 0;
  }

  private setMeta(name: string, value: number): void {
    this.sql.exec(
      "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      name,
      value,
    );
  }
}

/** Items as JSON arrays of at most INBOX_CHUNK_CHARS characters each (one item alone may be longer). */
function* chunksOf(items: readonly unknown[]): Generator<{ json: string; n: number }> {
  let part: string[] = [];
  let chars = 0;
  for (const item of items) {
    const json = JSON.stringify(item);
    if (part.length > 0 && chars + json.length > INBOX_CHUNK_CHARS) {
      yield { json: `[${part.join(",")}]`, n: part.length };
      part = [];
      chars = 0;
    }
    part.push(json);
    chars += json.length + 1;
  }
  if (part.length > 0) yield { json: `[${part.join(",")}]`, n: part.length };
}

/**
 * A count that is not a finite number is stored as 0: JSON would make it null, and one null stored would
 * stop every later adding-up of this shard. None is expected (the edge bounds what Zavu reports).
 */
function finiteCounts(rows: UsageRow[], claims: QuotaClaimCount[]): void {
  const fix = (n: number | undefined) => (n === undefined || Number.isFinite(n) ? n : 0);
  for (const r of rows) {
    r.sends = fix(r.sends)!;
    r.costCents = fix(r.costCents)!;
    r.estimatedCents = fix(r.estimatedCents)!;
    r.delivered = fix(r.delivered);
    r.failed = fix(r.failed);
    if (r.refusals) for (const code of Object.keys(r.refusals)) r.refusals[code] = fix(r.refusals[code])!;
  }
  for (const c of claims) {
    c.sent = fix(c.sent)!;
    c.unknown = fix(c.unknown)!;
  }
}
