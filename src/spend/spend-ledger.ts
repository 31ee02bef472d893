import { DurableObject } from "cloudflare:workers";
import { alertSink } from "../alerts/emit";
import { config } from "../config";
import type { Env } from "../env";
import { createCounters } from "../lib/counters";
import { ZavuMainAccount } from "../upstream/zavu-client";
import { quotaRecords } from "../usage/shards";
import { type AlertMarks, dueAlerts, noMarks } from "./ledger-alerts";
import {
  answeredSince,
  applyRefresh,
  available,
  closeLease,
  creditFailedSend,
  estimateOf,
  expire,
  type Grant,
  grant,
  hasClosed,
  type LeaseUse,
  type LedgerKind,
  type LedgerState,
  learnCost,
  newLedger,
  type RefusalCode,
  type Reservation,
  refreshDue,
  reserve,
  setLimit,
  settle,
} from "./ledger-math";
import { nextQuotaSettle, recountQuota, settleSilentLeases, silentLeases } from "./quota-math";

/** Which budget a ledger guards: the team's balance, one tenant's credit limit, or one tenant's sends on one UTC day. */
export type LedgerSubject =
  | { kind: "team" }
  | { kind: "tenant"; tenantId: string; subAccountId: string }
  | { kind: "quota"; tenantId: string; day: string; limit: number };

/** What an isolate hands back with a lease: what was spent under it, and the estimates of sends still in flight. */
export interface LeaseReturn extends LeaseUse {
  id: string;
  /** The largest single-send cost this isolate saw (cents). */
  maxCost: number;
}

export interface LedgerSnapshot {
  kind: LedgerKind;
  limit: number | null;
  /** totalSpent at the last refresh plus what was handed out since (cents). */
  spent: number;
  /** totalSpent at the last refresh plus the sends answered since (cents; leases' unused parts excluded). */
  counted: number;
  available: number | null;
  estimate: number;
  refreshedAt: number;
}

const STATE_KEY = "state";
/** A day's quota ledger deletes itself this long after its day ended. */
const QUOTA_KEEP_MS = 2 * 86_400_000;
/** A quota ledger that could not read the usage records tries again this much later. */
const SETTLE_RETRY_MS = 60_000;
const dayEndOf = (day: string) => Date.parse(`${day}T00:00:00Z`) + 86_400_000;
/** KV copy for listings (admin, console) that must not call a Durable Object per row. */
export const snapshotKey = (tenantId: string) => `spend:${tenantId}`;

/**
 * One budget's ledger (Durable Object, one per tenant with a credit limit and one for the team):
 * every isolate's admissions for that budget meet here, so no two isolates can spend the same cents.
 * Far from the edge it hands out leases; in the strict zone it reserves each send's cost. It asks
 * Zavu (with the main key) for the truth: often near the edge, rarely far from it. Its state survives
 * eviction in the object's own storage.
 */
export class SpendLedger extends DurableObject<Env> {
  private state: LedgerState | null = null;
  private subject: LedgerSubject | null = null;
  private marks: AlertMarks | null = null;
  private refreshing: Promise<void> | null = null;
  private recounting: Promise<void> | null = null;
  private readonly counters = createCounters();
  /** The alarm this object set last (a quota ledger's: its next settling, or its deletion). */
  private alarmAt: number | null = null;

  private loadStored(): LedgerState | null {
    if (!this.state) {
      const stored = this.ctx.storage.kv.get<LedgerState>(STATE_KEY);
      // A quota ledger stored before it read the usage records at its start counted the day itself.
      if (stored?.kind === "quota" && stored.seeded === undefined) {
        stored.seeded = true;
        stored.legacy = true; // its claims were not recorded by id: a recount could not tell them apart
      }
      this.state = stored ?? null;
      this.subject = this.ctx.storage.kv.get<LedgerSubject>("subject") ?? null;
    }
    return this.state;
  }

  private load(subject: LedgerSubject): LedgerState {
    this.state = this.loadStored() ?? newLedger(subject.kind);
    if (!this.subject) {
      this.subject = subject;
      this.ctx.storage.kv.put("subject", subject);
    }
    const cfg = config(this.env);
    // A quota's limit comes with every call (the tenant's plan): a changed one applies at once, and the
    // ledger recounts the day from the usage records (the quota may have been off for a while).
    if (subject.kind === "quota" && this.state.limit !== subject.limit) {
      if (this.state.limit !== null) this.state.seeded = false;
      setLimit(this.state, subject.limit);
    }
    if (subject.kind === "quota") {
      this.state.seeded ??= false;
      this.state.quotaLeaseMs = cfg.quotaLeaseMs;
    }
    this.state.graceMs = cfg.upstreamTimeoutMs + 2_000;
    return this.state;
  }

  /**
   * A quota ledger counts the sends the usage records hold for its day before it first hands anything
   * out, and again when its quota changes (see recountQuota). Unreadable records: the send is refused
   * for now (503 budget_unavailable), never admitted past a quota the ledger cannot count.
   */
  private recountQuota(s: LedgerState): Promise<void> {
    const subject = this.subject;
    if (s.kind !== "quota" || s.seeded || subject?.kind !== "quota") return Promise.resolve();
    if (s.legacy) {
      s.seeded = true;
      return Promise.resolve();
    }
    // Callers that arrive while one recount runs wait for it: one read of the records, not one each.
    this.recounting ??= quotaRecords(this.env, this.counters, subject.tenantId, subject.day, [])
      .then((records) => {
        if (!s.seeded) recountQuota(s, records);
      })
      .finally(() => {
        this.recounting = null;
      });
    return this.recounting;
  }

  /**
   * The tenant's plan changed (its daily quota set, changed or removed): count the day again on the next
   * claim, since sends made while it had no quota claimed nothing here. A ledger that does not exist yet
   * counts the day when it starts.
   */
  async replan(): Promise<void> {
    const s = this.loadStored();
    if (s?.kind !== "quota") return;
    s.seeded = false;
    this.ctx.storage.kv.put(STATE_KEY, s);
  }

  private save(): void {
    if (!this.state) return;
    this.ctx.storage.kv.put(STATE_KEY, this.state);
    this.checkAlerts();
    this.scheduleQuota();
  }

  /** A quota ledger wakes to settle its silent leases, and to delete itself once its day is long over. */
  private scheduleQuota(at?: number): void {
    const subject = this.subject;
    if (subject?.kind !== "quota" || !this.state) return;
    const deleteAt = dayEndOf(subject.day) + QUOTA_KEEP_MS;
    const next = Math.min(deleteAt, at ?? nextQuotaSettle(this.state) ?? deleteAt);
    // Overdue, with a retry already set (settling was postponed until the records catch up): keep it.
    if (at === undefined && this.alarmAt !== null && next <= Date.now() && this.alarmAt > Date.now()) return;
    if (next === this.alarmAt) return;
    this.alarmAt = next;
    void this.ctx.storage.setAlarm(next);
  }

  /** A quota ledger: settles leases whose holder went silent (see quota-math), or deletes itself after its day. */
  override async alarm(): Promise<void> {
    const s = this.loadStored();
    const subject = this.subject;
    this.alarmAt = null;
    if (!s || subject?.kind !== "quota") return;
    const now = Date.now();
    if (now >= dayEndOf(subject.day) + QUOTA_KEEP_MS) {
      this.state = null;
      this.subject = null;
      await this.ctx.storage.deleteAll();
      return;
    }
    expire(s, now);
    let retryAt: number | undefined;
    const silent = silentLeases(s, now);
    if (silent.length > 0) {
      try {
        const records = await quotaRecords(this.env, this.counters, subject.tenantId, subject.day, silent);
        settleSilentLeases(s, silent, records.byClaim);
      } catch {
        retryAt = Date.now() + SETTLE_RETRY_MS; // the silent leases stay counted in full meanwhile
      }
    }
    this.ctx.storage.kv.put(STATE_KEY, s);
    this.scheduleQuota(retryAt);
  }

  /** Alerts the state now calls for (see dueAlerts), marked as sent with the state, emitted in the background. */
  private checkAlerts(): void {
    const subject = this.subject;
    if (!subject || subject.kind === "quota") return;
    this.marks ??= this.ctx.storage.kv.get<AlertMarks>("alerts") ?? noMarks();
    const before = JSON.stringify(this.marks);
    const events = dueAlerts(this.state!, subject, this.marks, {
      fallbackEstimate: this.fallbackEstimate(),
      lowCents: config(this.env).teamBalanceLowCents,
    });
    if (JSON.stringify(this.marks) !== before) this.ctx.storage.kv.put("alerts", this.marks);
    if (events.length === 0) return;
    const sink = alertSink(this.env, this.counters);
    this.ctx.waitUntil(Promise.all(events.map((e) => sink.emit(e))).catch(() => undefined));
  }

  /** A lease (or the news that this budget is in its strict zone, or exhausted); closes the leases handed back. */
  async acquire(subject: LedgerSubject, holder: string, returned: LeaseReturn[] = []): Promise<Grant> {
    const s = this.load(subject);
    const now = Date.now();
    if (s.kind === "quota") {
      await this.recountQuota(s);
      expire(s, now);
    }
    for (const lease of returned) {
      closeLease(s, lease.id, lease, now);
      if (lease.maxCost > 0) learnCost(s, lease.maxCost);
    }
    await this.refreshIfDue(now);
    this.requireFigures(s);
    let result = grant(s, holder, Date.now(), this.fallbackEstimate());
    if (result.mode === "refused" && (await this.refreshBeforeRefusing())) {
      result = grant(s, holder, Date.now(), this.fallbackEstimate());
    }
    this.save();
    return result;
  }

  /** The strict zone: reserves one send's estimated cost, or refuses it. */
  async reserve(subject: LedgerSubject, holder: string): Promise<Reservation> {
    const s = this.load(subject);
    await this.recountQuota(s);
    await this.refreshIfDue(Date.now());
    this.requireFigures(s);
    let result = reserve(s, holder, Date.now(), this.fallbackEstimate());
    if (!result.ok && (await this.refreshBeforeRefusing())) {
      result = reserve(s, holder, Date.now(), this.fallbackEstimate());
    }
    this.save();
    return result;
  }

  /**
   * A credit limit or team balance whose first refresh from Zavu failed is unknown: nothing is handed
   * out until it is known (the edge answers 503 budget_unavailable). Before this, a tenant ledger whose
   * first refresh failed handed out leases as if it had no limit (the fault matrix's Zavu 5xx row: a
   * 40-cent limit spent 13,130 cents).
   */
  private requireFigures(s: LedgerState): void {
    if (s.kind === "quota" || s.refreshedAt !== 0) return;
    this.save();
    throw new Error("This budget has no figures from Zavu yet: its first refresh failed.");
  }

  /**
   * A refusal that rests on counts a refresh would replace (estimates, sends Zavu's total may already
   * include) is checked against Zavu's own figures first, at most four times a second: the gateway should
   * not refuse what the limit allows.
   */
  private async refreshBeforeRefusing(): Promise<boolean> {
    const s = this.state!;
    if (s.kind === "quota" || Date.now() - s.refreshedAt < 250 || !hasClosed(s)) return false;
    await this.refresh().catch(() => undefined);
    return true;
  }

  /** A reserved send was answered: its real cost (null when Zavu did not say), or Zavu's refusal. */
  async settle(
    subject: LedgerSubject,
    id: string,
    cost: number | null,
    refused?: RefusalCode,
    unknownOutcome = false,
  ): Promise<void> {
    const s = this.load(subject);
    if (refused) {
      s.exhausted = refused;
      settle(s, id, 0, Date.now()); // refused: nothing was charged
    } else {
      settle(s, id, cost, Date.now(), unknownOutcome);
    }
    this.save();
  }

  /** A lease handed back without asking for another (its holder dropped the tenant). */
  async release(subject: LedgerSubject, lease: LeaseReturn): Promise<void> {
    const s = this.load(subject);
    closeLease(s, lease.id, lease, Date.now());
    this.save();
  }

  /** Zavu refused a send (402) that the isolate had admitted under a lease. */
  async exhausted(subject: LedgerSubject, code: RefusalCode): Promise<void> {
    this.load(subject).exhausted = code;
    this.save();
  }

  /**
   * A send created at `sentAt` (unix ms) failed and Zavu charged nothing for it: the estimate counted
   * for it is released, if it is still counted (see creditFailedSend; never on a quota ledger).
   * `messageId` makes a repeat harmless. Resolves with the cents released (0: nothing changed).
   */
  async creditFailedSend(subject: LedgerSubject, sentAt: number, messageId?: string): Promise<number> {
    const s = this.load(subject);
    const released = creditFailedSend(s, sentAt, messageId, this.fallbackEstimate());
    if (released > 0) this.save();
    return released;
  }

  /** The admin changed the tenant's credit limit (Zavu already has it): it applies at once. */
  async setLimit(subject: LedgerSubject, limit: number | null): Promise<void> {
    setLimit(this.load(subject), limit);
    this.save();
  }

  async snapshot(subject: LedgerSubject, refresh = false): Promise<LedgerSnapshot> {
    const s = this.load(subject);
    if (refresh) await this.refresh();
    const left = available(s, this.fallbackEstimate());
    return {
      kind: s.kind,
      limit: s.limit,
      spent: s.limit === null || left === Number.POSITIVE_INFINITY ? s.spent : s.limit - left,
      counted: s.spent + answeredSince(s, this.fallbackEstimate()),
      available: left === Number.POSITIVE_INFINITY ? null : left,
      estimate: estimateOf(s, this.fallbackEstimate()),
      refreshedAt: s.refreshedAt,
    };
  }

  private fallbackEstimate(): number | undefined {
    return config(this.env).sendCostEstimateCents;
  }

  /** Zavu is asked for money ledgers only: a quota's own count is the truth. */
  private async refreshIfDue(now: number): Promise<void> {
    if (this.state && this.state.kind !== "quota" && refreshDue(this.state, now, this.fallbackEstimate())) {
      await this.refresh().catch(() => undefined);
    }
  }

  /** One refresh at a time; callers that need one while it runs wait for the same answer. */
  private refresh(): Promise<void> {
    if (this.subject?.kind === "quota") return Promise.resolve();
    this.refreshing ??= this.fetchFigures().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async fetchFigures(): Promise<void> {
    const s = this.state!;
    const subject = this.subject!;
    const cfg = config(this.env);
    const zavu = new ZavuMainAccount(cfg.upstreamBase, this.env.ZAVU_API_KEY, cfg.upstreamTimeoutMs, this.counters);
    const startedAt = Date.now();
    if (subject.kind === "team") {
      const { balance } = await zavu.teamBalance();
      applyRefresh(s, { remaining: balance }, startedAt);
    } else if (subject.kind === "tenant") {
      const b = await zavu.getBalance(subject.subAccountId);
      const limit = b.creditLimit || null;
      const spent = b.totalSpent ?? 0;
      applyRefresh(s, { remaining: limit === null ? null : limit - spent, limit, spent }, startedAt);
      const snapshot = { limit, spent, at: startedAt };
      await this.env.CACHE.put(snapshotKey(subject.tenantId), JSON.stringify(snapshot)).catch(() => undefined);
    }
    this.save();
  }
}
