import type { Counters } from "../lib/counters";
import { CountedDb } from "./db";

/** A row as D1 keeps it (see usage_daily), with its refusals. */
export interface UsageRecord {
  tenantId: string;
  date: string;
  channel: string;
  sends: number;
  refusals: Record<string, number>;
  costCents: number;
  estimatedCents: number;
  correctedCents: number;
  /** Zavu's message.delivered events, dated by the event (see recordDeliveryOutcome). */
  delivered: number;
  /** Zavu's message.failed events, dated by the event. */
  failed: number;
}

/** One usage record's counts, as isolates hand them to a shard and shards add them to D1 (add). */
/** Sends made under one daily-quota claim (a lease or reservation id of the tenant's ledger for that day). */
export interface QuotaClaimCount {
  tenantId: string;
  date: string;
  claimId: string;
  /** Sends Zavu accepted under it. */
  sent: number;
  /** Sends whose outcome nobody learned (the quota counts them). */
  unknown: number;
}

export interface UsageRow {
  tenantId: string;
  /** YYYY-MM-DD, UTC. */
  date: string;
  /** Zavu's channel from the send's answer; "unknown" when the gateway did not read it. */
  channel: string;
  /** Sends Zavu accepted. */
  sends: number;
  /** Their cost: exact where Zavu gave it, estimated otherwise (cents). */
  costCents: number;
  /** The estimated part of costCents. */
  estimatedCents: number;
  /** Sends refused, by the code the customer got. */
  refusals: Record<string, number> | null;
  /**
   * Delivery outcomes Zavu reported (message.delivered / message.failed events). Optional: an isolate
   * of the previous version hands over rows without them (absent = 0).
   */
  delivered?: number;
  failed?: number;
}

export interface MonthlyRow {
  tenantId: string;
  name: string | null;
  externalId: string | null;
  channel: string;
  sends: number;
  refusals: Record<string, number>;
  costCents: number;
  estimatedCents: number;
  delivered: number;
  failed: number;
}

/** A day's records, every tenant and channel added up. */
export interface DailyTotal {
  date: string;
  sends: number;
  costCents: number;
  delivered: number;
  failed: number;
}

/** A tenant's records over a period, added up. */
export interface TenantTotal {
  tenantId: string;
  name: string | null;
  sends: number;
  costCents: number;
}

export interface Reconciliation {
  id: number;
  at: number;
  zavuCents: number;
  countedCents: number;
  driftCents: number;
  estimatedCents: number;
}

type Row = {
  tenant_id: string;
  date: string;
  channel: string;
  sends: number;
  cost_cents: number;
  estimated_cents: number;
  corrected_cents: number;
  delivered: number;
  failed: number;
};

/** Usage records and reconciliations in D1. Every query is counted. */
export class UsageRepo {
  private readonly db: CountedDb;

  constructor(d1: D1Database, counters: Counters) {
    this.db = new CountedDb(d1, counters);
  }

  /**
   * Adds counts to the records in one batch, exactly once per `flushId`: a batch that already landed
   * is refused by usage_flushes' key (the whole batch rolls back) and reported as done.
   */
  async add(flushId: string, rows: UsageRow[], now: number): Promise<"added" | "already"> {
    const statements = [this.db.prepare("INSERT INTO usage_flushes (id, at) VALUES (?, ?)").bind(flushId, now)];
    for (const r of rows) {
      statements.push(
        this.db
          .prepare(
            `INSERT INTO usage_daily (tenant_id, date, channel, sends, cost_cents, estimated_cents, delivered, failed,
               updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (tenant_id, date, channel) DO UPDATE SET sends = sends + excluded.sends,
               cost_cents = cost_cents + excluded.cost_cents,
               estimated_cents = estimated_cents + excluded.estimated_cents,
               delivered = delivered + excluded.delivered, failed = failed + excluded.failed,
               updated_at = excluded.updated_at`,
          )
          .bind(
            r.tenantId,
            r.date,
            r.channel,
            r.sends,
            r.costCents,
            r.estimatedCents,
            r.delivered ?? 0,
            r.failed ?? 0,
            now,
          ),
      );
      for (const [code, n] of Object.entries(r.refusals ?? {})) {
        statements.push(
          this.db
            .prepare(
              `INSERT INTO usage_refusals (tenant_id, date, channel, code, count) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (tenant_id, date, channel, code) DO UPDATE SET count = count + excluded.count`,
            )
            .bind(r.tenantId, r.date, r.channel, code, n),
        );
      }
    }
    try {
      await this.db.batch(statements);
      return "added";
    } catch (err) {
      if (String(err instanceof Error ? err.message : err).includes("usage_flushes.id")) return "already";
      throw err;
    }
  }

  /** Forgets flush ids older than `before` (a retry comes within minutes, not days). */
  async forgetFlushes(before: number): Promise<void> {
    await this.db.run(this.db.prepare("DELETE FROM usage_flushes WHERE at < ?").bind(before));
  }

  /** A tenant's accepted sends on one day, as written to D1 (see recordedSends for what shards still hold). */
  async sendsOn(tenantId: string, date: string): Promise<number> {
    const row = await this.db.first<{ n: number }>(
      this.db
        .prepare("SELECT COALESCE(SUM(sends), 0) AS n FROM usage_daily WHERE tenant_id = ? AND date = ?")
        .bind(tenantId, date),
    );
    return row?.n ?? 0;
  }

  /** A tenant's records from `from` to `to` (inclusive dates), oldest first. */
  async forTenant(tenantId: string, from: string, to: string): Promise<UsageRecord[]> {
    const [rows, refusals] = await this.db.batch([
      this.db
        .prepare(
          "SELECT * FROM usage_daily WHERE tenant_id = ? AND date >= ? AND date <= ? ORDER BY date, channel LIMIT 10000",
        )
        .bind(tenantId, from, to),
      this.db
        .prepare(
          "SELECT date, channel, code, count FROM usage_refusals WHERE tenant_id = ? AND date >= ? AND date <= ? LIMIT 10000",
        )
        .bind(tenantId, from, to),
    ]);
    const byKey = new Map<string, Record<string, number>>();
    for (const r of (refusals?.results ?? []) as Array<{
      date: string;
      channel: string;
      code: string;
      count: number;
    }>) {
      const key = `${r.date} ${r.channel}`;
      byKey.set(key, { ...byKey.get(key), [r.code]: r.count });
    }
    return ((rows?.results ?? []) as Row[]).map((r) => ({
      tenantId: r.tenant_id,
      date: r.date,
      channel: r.channel,
      sends: r.sends,
      refusals: byKey.get(`${r.date} ${r.channel}`) ?? {},
      costCents: r.cost_cents,
      estimatedCents: r.estimated_cents,
      correctedCents: r.corrected_cents,
      delivered: r.delivered,
      failed: r.failed,
    }));
  }

  /** Every tenant's usage in [from, to) by channel, with its name and externalId (what an invoice run needs). */
  async monthly(from: string, to: string): Promise<MonthlyRow[]> {
    const [rows, refusals] = await this.db.batch([
      this.db
        .prepare(
          `SELECT u.tenant_id, t.name, t.external_id, u.channel, SUM(u.sends) AS sends, SUM(u.cost_cents) AS cost_cents,
               SUM(u.estimated_cents) AS estimated_cents, SUM(u.delivered) AS delivered, SUM(u.failed) AS failed
             FROM usage_daily u LEFT JOIN tenants t ON t.id = u.tenant_id
             WHERE u.date >= ? AND u.date < ? GROUP BY u.tenant_id, u.channel ORDER BY u.tenant_id, u.channel`,
        )
        .bind(from, to),
      this.db
        .prepare(
          `SELECT tenant_id, channel, code, SUM(count) AS count FROM usage_refusals
             WHERE date >= ? AND date < ? GROUP BY tenant_id, channel, code`,
        )
        .bind(from, to),
    ]);
    const byKey = new Map<string, Record<string, number>>();
    for (const r of (refusals?.results ?? []) as Array<{
      tenant_id: string;
      channel: string;
      code: string;
      count: number;
    }>) {
      const key = `${r.tenant_id} ${r.channel}`;
      byKey.set(key, { ...byKey.get(key), [r.code]: r.count });
    }
    type Monthly = { tenant_id: string; name: string | null; external_id: string | null; channel: string } & Pick<
      Row,
      "sends" | "cost_cents" | "estimated_cents" | "delivered" | "failed"
    >;
    return ((rows?.results ?? []) as Monthly[]).map((r) => ({
      tenantId: r.tenant_id,
      name: r.name,
      externalId: r.external_id,
      channel: r.channel,
      sends: r.sends,
      refusals: byKey.get(`${r.tenant_id} ${r.channel}`) ?? {},
      costCents: r.cost_cents,
      estimatedCents: r.estimated_cents,
      delivered: r.delivered,
      failed: r.failed,
    }));
  }

  /** Every tenant's records in [from, to) added up by day, oldest first (days without records are absent). */
  async daily(from: string, to: string): Promise<DailyTotal[]> {
    const { results } = await this.db.all<DailyTotal>(
      this.db
        .prepare(
          `SELECT date, SUM(sends) AS sends, SUM(cost_cents) AS costCents, SUM(delivered) AS delivered,
             SUM(failed) AS failed FROM usage_daily WHERE date >= ? AND date < ? GROUP BY date ORDER BY date LIMIT 400`,
        )
        .bind(from, to),
    );
    return results;
  }

  /** The `limit` tenants that cost most in [from, to), most first (ties by id), with their names. */
  async topTenants(from: string, to: string, limit: number): Promise<TenantTotal[]> {
    const { results } = await this.db.all<TenantTotal>(
      this.db
        .prepare(
          `SELECT u.tenant_id AS tenantId, t.name AS name, SUM(u.sends) AS sends, SUM(u.cost_cents) AS costCents
             FROM usage_daily u LEFT JOIN tenants t ON t.id = u.tenant_id
             WHERE u.date >= ? AND u.date < ? GROUP BY u.tenant_id ORDER BY costCents DESC, u.tenant_id LIMIT ?`,
        )
        .bind(from, to, limit),
    );
    return results;
  }

  /** Tenants with records dated `since` or later, after `after` (keyset), with what reconciling them needs. */
  async activeTenants(since: string, after: string, limit: number) {
    const { results } = await this.db.all<{ id: string; sub_account_id: string; usage_baseline_cents: number | null }>(
      this.db
        .prepare(
          `SELECT t.id, t.sub_account_id, t.usage_baseline_cents FROM tenants t
           WHERE t.id > ? AND t.sub_account_id IS NOT NULL
             AND EXISTS (SELECT 1 FROM usage_daily u WHERE u.tenant_id = t.id AND u.date >= ?)
           ORDER BY t.id LIMIT ?`,
        )
        .bind(after, since, limit),
    );
    return results.map((r) => ({ id: r.id, subAccountId: r.sub_account_id, baselineCents: r.usage_baseline_cents }));
  }

  /** A tenant's records that still hold estimates, and its recorded total. */
  async forReconciliation(tenantId: string) {
    const [total, estimated, latest] = await this.db.batch([
      this.db
        .prepare("SELECT COALESCE(SUM(cost_cents), 0) AS cents FROM usage_daily WHERE tenant_id = ?")
        .bind(tenantId),
      this.db
        .prepare(
          "SELECT date, channel, estimated_cents FROM usage_daily WHERE tenant_id = ? AND estimated_cents != 0 LIMIT 1000",
        )
        .bind(tenantId),
      this.db
        .prepare("SELECT date, channel FROM usage_daily WHERE tenant_id = ? ORDER BY date DESC, sends DESC LIMIT 1")
        .bind(tenantId),
    ]);
    return {
      countedCents: ((total?.results[0] as { cents: number } | undefined)?.cents ?? 0) as number,
      estimated: (estimated?.results ?? []) as Array<{ date: string; channel: string; estimated_cents: number }>,
      latest: (latest?.results[0] ?? null) as { date: string; channel: string } | null,
    };
  }

  /**
   * Records a reconciliation and applies its drift, in one batch: shared out over the records that held
   * estimates (in proportion to them; those estimates are then settled), or added to the latest record
   * when none did. A tenant without a baseline gets one instead (its first reconciliation).
   */
  async reconcile(
    tenantId: string,
    r: {
      zavuCents: number;
      countedCents: number;
      shares: Array<{ date: string; channel: string; cents: number; estimated: number }>;
    },
    baseline: number | null,
    now: number,
  ): Promise<void> {
    const drift = r.zavuCents - r.countedCents;
    const estimated = r.shares.reduce((n, s) => n + s.estimated, 0);
    const statements: D1PreparedStatement[] = [
      this.db
        .prepare(
          `INSERT INTO usage_reconciliations (tenant_id, at, zavu_cents, counted_cents, drift_cents, estimated_cents)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .bind(tenantId, now, r.zavuCents, r.countedCents, drift, estimated),
    ];
    if (baseline !== null) {
      statements.push(
        this.db
          .prepare("UPDATE tenants SET usage_baseline_cents = ? WHERE id = ? AND usage_baseline_cents IS NULL")
          .bind(baseline, tenantId),
      );
    }
    for (const s of r.shares) {
      statements.push(
        this.db
          .prepare(
            `UPDATE usage_daily SET cost_cents = cost_cents + ?1, corrected_cents = corrected_cents + ?1,
               estimated_cents = estimated_cents - ?2, updated_at = ?3
             WHERE tenant_id = ?4 AND date = ?5 AND channel = ?6`,
          )
          .bind(s.cents, s.estimated, now, tenantId, s.date, s.channel),
      );
    }
    await this.db.batch(statements);
  }

  /** A tenant's reconciliations, newest first. */
  async reconciliations(tenantId: string, limit = 20): Promise<Reconciliation[]> {
    const { results } = await this.db.all<{
      id: number;
      at: number;
      zavu_cents: number;
      counted_cents: number;
      drift_cents: number;
      estimated_cents: number;
    }>(
      this.db
        .prepare("SELECT * FROM usage_reconciliations WHERE tenant_id = ? ORDER BY id DESC LIMIT ?")
        .bind(tenantId, limit),
    );
    return results.map((r) => ({
      id: r.id,
      at: r.at,
      zavuCents: r.zavu_cents,
      countedCents: r.counted_cents,
      driftCents: r.drift_cents,
      estimatedCents: r.estimated_cents,
    }));
  }
}
