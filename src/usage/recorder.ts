import type { Clock } from "../lib/clock";
import type { Counters } from "../lib/counters";
import type { QuotaClaimCount, UsageRow } from "../storage/usage-repo";
import { addInto, UNKNOWN_CHANNEL, USAGE_SHARDS, utcDay } from "./rows";

/** A usage shard as an isolate reaches it (the Durable Object's stub, or anything of the same shape). */
export interface UsageShardApi {
  record(batchId: string, rows: UsageRow[], claims?: QuotaClaimCount[]): Promise<void>;
}

export interface FlushContext {
  waitUntil(p: Promise<unknown>): void;
  shard(index: number): UsageShardApi;
}

/** Tries per flush (the same batch id each time: a shard applies a batch once). */
const FLUSH_TRIES = 3;
const RETRY_MS = 1_000;
/** Estimates average over about this many exact costs. */
const ESTIMATE_WINDOW = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * This isolate's usage counts between flushes. A send adds to a row in memory (no I/O); at most once
 * per `flushMs` the rows go to this isolate's usage shard as one batch. The flush is scheduled by a
 * request that added a row and runs in that request's waitUntil, so the isolate is not evicted before
 * it: a count is lost only if the isolate is killed abnormally (a crash, a runtime restart) within
 * flushMs of its request, or if its shard stays unreachable for every try and no later send comes.
 * Bounded: rows are per tenant, day and channel touched within one flush interval.
 */
export class UsageRecorder {
  private pending = new Map<string, UsageRow>();
  /** Sends by daily-quota claim, in the same batches as the rows (see spend/quota-math). */
  private claims = new Map<string, QuotaClaimCount>();
  /** A batch sent but not acknowledged: sent again, with the same id, before anything newer. */
  private unacked: { id: string; rows: UsageRow[]; claims: QuotaClaimCount[] } | null = null;
  /** A flush that has not taken the pending rows yet (at most one). */
  private scheduled = false;
  private seq = 0;
  private day = { date: "", endsAt: 0 };
  private isolateId: string | null = null;
  private shardIndex = 0;
  private estimateCents = 0;
  private exactSeen = 0;
  private flushed = 0;
  private failedFlushes = 0;
  private lastFlushAt = 0;

  constructor(
    private readonly clock: Clock,
    private readonly counters: Counters,
    private readonly flushMs: number,
  ) {}

  /**
   * A send Zavu accepted: its channel and cost when the answer was read, else unknown and estimated
   * (`fallbackCents` until this isolate has seen an exact cost).
   */
  accepted(tenantId: string, channel: string | null, costCents: number | null, fallbackCents: number): void {
    if (costCents !== null) this.learn(costCents);
    const estimated = costCents === null ? this.estimate(fallbackCents) : 0;
    this.add(tenantId, channel ?? UNKNOWN_CHANNEL, 1, costCents ?? estimated, estimated, null);
  }

  /** A send the tenant's daily quota counted (accepted, or of unknown outcome) under the claim `claimId`. */
  claimed(tenantId: string, claimId: string, outcome: "sent" | "unknown"): void {
    const now = this.clock.now();
    if (now >= this.day.endsAt) this.day = utcDay(now);
    const key = `${tenantId} ${this.day.date} ${claimId}`;
    let c = this.claims.get(key);
    if (!c) {
      c = { tenantId, date: this.day.date, claimId, sent: 0, unknown: 0 };
      this.claims.set(key, c);
    }
    if (outcome === "sent") c.sent++;
    else c.unknown++;
  }

  /** A send refused, by the gateway or by Zavu, with the code the customer got. */
  refused(tenantId: string, code: string): void {
    this.add(tenantId, UNKNOWN_CHANNEL, 0, 0, 0, code);
  }

  /** The cost assumed for a send whose answer was not read: the average exact cost this isolate saw. */
  estimate(fallbackCents: number): number {
    return this.exactSeen > 0 ? Math.max(0, Math.round(this.estimateCents)) : fallbackCents;
  }

  private learn(cents: number): void {
    this.exactSeen++;
    this.estimateCents += (cents - this.estimateCents) / Math.min(this.exactSeen, ESTIMATE_WINDOW);
  }

  private add(
    tenantId: string,
    channel: string,
    sends: number,
    costCents: number,
    estimatedCents: number,
    refusal: string | null,
  ): void {
    const now = this.clock.now();
    if (now >= this.day.endsAt) this.day = utcDay(now);
    const key = `${tenantId} ${this.day.date} ${channel}`;
    let row = this.pending.get(key);
    if (!row) {
      row = { tenantId, date: this.day.date, channel, sends: 0, costCents: 0, estimatedCents: 0, refusals: null };
      this.pending.set(key, row);
    }
    addInto(row, { sends, costCents, estimatedCents, refusals: refusal ? { [refusal]: 1 } : null });
  }

  /**
   * Makes sure a flush will take what is pending: if none is waiting, this request schedules one
   * (after flushMs) in its own waitUntil. Costs a comparison when one is already waiting.
   */
  flushSoon(ctx: FlushContext): void {
    if (this.scheduled || (this.pending.size === 0 && this.claims.size === 0 && !this.unacked)) return;
    this.scheduled = true;
    ctx.waitUntil(this.flushAfter(ctx));
  }

  private async flushAfter(ctx: FlushContext): Promise<void> {
    if (this.flushMs > 0) await sleep(this.flushMs);
    this.scheduled = false;
    await this.flush(ctx);
  }

  /** Sends what is pending (after any batch not yet acknowledged) to this isolate's shard, now. */
  async flush(ctx: Pick<FlushContext, "shard">): Promise<void> {
    this.isolateId ??= this.newIsolateId();
    // At most two batches: one left unacknowledged by an earlier flush, then what is pending now.
    for (let round = 0; round < 2; round++) {
      if (!this.unacked) {
        if (this.pending.size === 0 && this.claims.size === 0) return;
        this.unacked = {
          id: `${this.isolateId}:${++this.seq}`,
          rows: [...this.pending.values()],
          claims: [...this.claims.values()],
        };
        this.pending = new Map();
        this.claims = new Map();
      }
      if (!(await this.send(ctx, this.unacked))) return;
      this.unacked = null;
    }
  }

  private async send(
    ctx: Pick<FlushContext, "shard">,
    batch: { id: string; rows: UsageRow[]; claims: QuotaClaimCount[] },
  ): Promise<boolean> {
    for (let tries = 1; ; tries++) {
      try {
        this.counters.usageFlushes++;
        await ctx.shard(this.shardIndex).record(batch.id, batch.rows, batch.claims);
        this.flushed += batch.rows.length;
        this.lastFlushAt = this.clock.now();
        return true;
      } catch {
        this.failedFlushes++;
        if (tries >= FLUSH_TRIES) return false; // kept: the next flush sends it again, same id
        await sleep(RETRY_MS * tries);
      }
    }
  }

  private newIsolateId(): string {
    const id = crypto.randomUUID();
    let h = 0;
    for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
    this.shardIndex = h % USAGE_SHARDS;
    return id;
  }

  stats() {
    return {
      pendingRows: this.pending.size + (this.unacked?.rows.length ?? 0),
      rowsFlushed: this.flushed,
      failedFlushes: this.failedFlushes,
      lastFlushAt: this.lastFlushAt || null,
      estimateCents: this.exactSeen > 0 ? Math.round(this.estimateCents) : null,
    };
  }
}
