import { apiError } from "../errors";
import { BoundedCache } from "../lib/bounded-cache";
import type { Clock } from "../lib/clock";
import type { Counters } from "../lib/counters";
import type { Grant, RefusalCode, Reservation } from "./ledger-math";
import type { LeaseReturn, LedgerSubject } from "./spend-ledger";

/** A ledger as an isolate reaches it: the Durable Object's RPC stub, or anything of the same shape. */
export interface LedgerApi {
  acquire(subject: LedgerSubject, holder: string, returned: LeaseReturn[]): Promise<Grant>;
  reserve(subject: LedgerSubject, holder: string): Promise<Reservation>;
  settle(
    subject: LedgerSubject,
    id: string,
    cost: number | null,
    refused?: RefusalCode,
    unknownOutcome?: boolean,
  ): Promise<void>;
  exhausted(subject: LedgerSubject, code: RefusalCode): Promise<void>;
  release(subject: LedgerSubject, lease: LeaseReturn): Promise<void>;
}

interface Lease {
  id: string;
  amount: number;
  /** The cost each send takes from it until its answer tells the real one (cents). */
  estimate: number;
  /** Cents of the lease not yet promised to a send. */
  remaining: number;
  expiresAt: number;
  /** From then on, a send renews it in the background (the last quarter of its life). */
  renewAt: number;
  /** Cents of answered sends whose cost Zavu gave. */
  known: number;
  /** Answered sends whose cost nobody read or Zavu did not give (the ledger values them). */
  unknownSends: number;
  /** Estimates of sends admitted and not yet answered. */
  inFlight: number;
  /** When a send under it last ended with an unknown outcome (a timeout, a reset); 0: none. */
  unknownAt: number;
}

/** This isolate's standing with one ledger. */
class Budget {
  /** The lease sends take from. */
  lease: Lease | null = null;
  /** A lease obtained ahead of need, taken over when the current one runs out. */
  next: Lease | null = null;
  /** Leases no longer used, reported to the ledger with the next request (so every send under them is counted). */
  retired: Lease[] = [];
  mode: "unknown" | "lease" | "strict" | "refused" = "unknown";
  /** Until then the strict or refused answer stands without asking the ledger for a lease again. */
  recheckAt = 0;
  refusal: RefusalCode | null = null;
  /** The refusal came from Zavu (a 402), not from the ledger's count. */
  hard = false;
  acquiring: Promise<void> | null = null;
  constructor(public subject: LedgerSubject) {}
}

/** One admitted send's claim on one budget, settled when its answer is known. */
type Claim =
  | { budget: Budget; kind: "lease"; lease: Lease; estimate: number }
  | { budget: Budget; kind: "reservation"; id: string; estimate: number };

export interface Admission {
  claims: Claim[];
  /** Whether the send's exact cost matters now (a reservation to settle, a credit limit, no estimate yet). */
  needsExactCost: boolean;
  /**
   * The daily-quota claim (lease or reservation id) and, once settled, how the quota counted the send:
   * the usage records keep both (spend/quota-math settles a silent lease from them).
   */
  quota: { claimId: string; counted: "sent" | "unknown" | null } | null;
}

/**
 * What became of an admitted send. `sent`: Zavu accepted it (true), refused it or it never left
 * (false), or nobody knows (null: a timeout, a 5xx). `cost`: cents when Zavu said, else null.
 */
export interface SendOutcome {
  sent: boolean | null;
  cost: number | null;
  /** Zavu's own refusal (402) of the tenant's credit or the team's balance. */
  refused?: RefusalCode;
}

/** A tenant's daily quota for today, when its plan has one (the send counts one unit of it). */
export interface QuotaClaim {
  limit: number;
  /** The UTC day it counts (YYYY-MM-DD): each day has its own ledger. */
  day: string;
}

export interface BudgetContext {
  ledger(subject: LedgerSubject): LedgerApi;
  waitUntil(p: Promise<unknown>): void;
}

/** Leases are renewed when this share of them is left. */
const RENEW_BELOW = 0.5;
/** A lease is not started on this close to its expiry. */
const EXPIRY_MARGIN_MS = 1_000;
/** How long the strict zone stands before the isolate asks for a lease again. */
const RECHECK_MS = 2_000;
/** How long a refusal stands in this isolate before it asks the ledger again (which refreshes from Zavu first). */
const REFUSAL_RECHECK_MS = 500;
/**
 * A short quota lease (near the quota's end) goes back to its ledger this long before it expires (at half
 * its life, if that is later), from the request that took it (waitUntil lasts 30 s after the answer), so the sends it did not use are
 * free again at once. A long one (far from the end) is settled by its ledger against the usage records
 * if its holder goes silent (quota-math).
 */
const HAND_BACK_BEFORE_MS = 5_000;
const HAND_BACK_LEASES_UP_TO_MS = 10_000;
/** No lease is taken to live longer than this here, whatever the ledger's clock says. */
const MAX_LEASE_LIFE_MS = 3_600_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Admission against the money the gateway guards, for one isolate: the team's balance, and the
 * tenant's credit limit when it has one. Far from the edge a send costs nothing here: it takes its
 * estimated cost from a lease this isolate holds. In the strict zone it reserves its cost from the
 * ledger (one Durable Object call) before it is forwarded.
 */
export class Budgets {
  private readonly team = new Budget({ kind: "team" });
  private readonly tenants: BoundedCache<string, Budget>;
  /** Daily quotas: tenant id -> today's budget (a new day, a new ledger). */
  private readonly quotas: BoundedCache<string, Budget>;
  /** The largest send cost this isolate saw (cents), reported to ledgers with each lease. */
  private maxCost = 0;
  private holderId: string | null = null;

  /** Who this isolate is, to the ledgers (made on first use: no randomness at start-up in a Worker). */
  get holder(): string {
    this.holderId ??= crypto.randomUUID();
    return this.holderId;
  }

  constructor(
    private readonly clock: Clock,
    private readonly counters: Counters,
  ) {
    this.tenants = new BoundedCache({ maxEntries: 10_000, ttlMs: 10 * 60_000, clock });
    this.quotas = new BoundedCache({ maxEntries: 10_000, ttlMs: 10 * 60_000, clock });
  }

  /**
   * Claims a send's share of every budget it counts against: the tenant's credit limit, its daily
   * quota (one unit), the team's balance. A refusal of any gives back what the others took.
   */
  async admit(
    tenant: { id: string; subAccountId: string | null; creditLimit: number | null },
    ctx: BudgetContext,
    quota: QuotaClaim | null = null,
  ): Promise<Admission> {
    const claims: Claim[] = [];
    let quotaClaim: Claim | null = null;
    try {
      if (tenant.creditLimit && tenant.subAccountId) {
        let budget = this.tenants.get(tenant.id);
        if (!budget) {
          budget = new Budget({ kind: "tenant", tenantId: tenant.id, subAccountId: tenant.subAccountId });
          this.tenants.set(tenant.id, budget);
        }
        claims.push(await this.claim(budget, ctx));
      }
      if (quota) {
        quotaClaim = await this.claim(this.quotaBudget(tenant.id, quota), ctx);
        claims.push(quotaClaim);
      }
      claims.push(await this.claim(this.team, ctx));
    } catch (err) {
      for (const c of claims) this.settleClaim(c, { sent: false, cost: 0 }, ctx);
      throw err;
    }
    const needsExactCost =
      this.maxCost === 0 ||
      tenant.creditLimit !== null ||
      claims.some((c) => c.kind === "reservation" && c.budget.subject.kind !== "quota");
    const quotaOf = (c: Claim) => ({ claimId: c.kind === "lease" ? c.lease.id : c.id, counted: null });
    return { claims, needsExactCost, quota: quotaClaim ? quotaOf(quotaClaim) : null };
  }

  /** Today's quota budget of a tenant; a changed limit hands back the leases taken under the old one. */
  private quotaBudget(tenantId: string, quota: QuotaClaim): Budget {
    let budget = this.quotas.get(tenantId);
    const subject = budget?.subject;
    if (!budget || subject?.kind !== "quota" || subject.day !== quota.day) {
      // Yesterday's leases are simply left to expire: that ledger no longer matters.
      budget = new Budget({ kind: "quota", tenantId, day: quota.day, limit: quota.limit });
      this.quotas.set(tenantId, budget);
    } else if (subject.limit !== quota.limit) {
      budget.subject = { ...subject, limit: quota.limit };
      this.retire(budget);
      if (budget.next) budget.retired.push(budget.next);
      budget.next = null;
      budget.mode = "unknown";
      budget.recheckAt = 0;
    }
    return budget;
  }

  private usable(lease: Lease | null, now: number): lease is Lease {
    return lease !== null && now < lease.expiresAt - EXPIRY_MARGIN_MS && lease.remaining >= lease.estimate;
  }

  private retire(budget: Budget): void {
    if (budget.lease) budget.retired.push(budget.lease);
    budget.lease = null;
  }

  private async claim(budget: Budget, ctx: BudgetContext): Promise<Claim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = this.clock.now();
      // Zavu itself refused (402): no lease this isolate holds is worth anything until the recheck.
      if (budget.mode === "refused" && budget.hard && now < budget.recheckAt) throw apiError(budget.refusal!);
      if (budget.next && !this.usable(budget.next, now)) {
        budget.retired.push(budget.next); // expired before it was needed: hand it back unused
        budget.next = null;
      }
      if (!this.usable(budget.lease, now) && budget.next) {
        const old = budget.lease;
        this.retire(budget);
        budget.lease = budget.next;
        budget.next = null;
        // A quota's lease goes back at once with what was sent under it: nothing else would report it
        // before the next renewal, and its unused sends are free again now.
        if (old && budget.subject.kind === "quota") ctx.waitUntil(this.handBack(budget, old, ctx));
      }
      const lease = budget.lease;
      if (this.usable(lease, now)) {
        lease.remaining -= lease.estimate;
        lease.inFlight += lease.estimate;
        const renew = lease.remaining < lease.amount * RENEW_BELOW || now >= lease.renewAt;
        if (renew && !budget.next && !budget.acquiring) {
          this.counters.ledgerCallsBackground++;
          ctx.waitUntil(this.acquire(budget, ctx).catch(() => undefined));
        }
        return { budget, kind: "lease", lease, estimate: lease.estimate };
      }
      this.retire(budget); // spent or expired: nothing more is taken from it
      if (budget.mode === "refused" && now < budget.recheckAt) throw apiError(budget.refusal!);
      if (budget.mode === "strict" && now < budget.recheckAt) return this.reserve(budget, ctx);
      this.counters.ledgerCalls++;
      await this.acquire(budget, ctx);
    }
    // The ledger kept handing out leases too small to use: reserve this one send.
    return this.reserve(budget, ctx);
  }

  private async reserve(budget: Budget, ctx: BudgetContext): Promise<Claim> {
    this.counters.ledgerCalls++;
    const r = await ctx.ledger(budget.subject).reserve(budget.subject, this.holder);
    if (!r.ok) {
      this.refuse(budget, r.code);
      throw apiError(r.code);
    }
    return { budget, kind: "reservation", id: r.id, estimate: r.estimate };
  }

  /**
   * One lease request at a time per budget. It reports the retired leases: nothing takes from them
   * any more, so what they report is complete but for sends still in flight, counted at their estimate.
   */
  private acquire(budget: Budget, ctx: BudgetContext): Promise<void> {
    budget.acquiring ??= (async () => {
      const retired = budget.retired.splice(0);
      const returned = retired.map((l) => this.returnOf(l));
      let grant: Grant;
      try {
        grant = await ctx.ledger(budget.subject).acquire(budget.subject, this.holder, returned);
      } catch (err) {
        budget.retired.unshift(...retired); // reported next time
        throw err;
      }
      const now = this.clock.now();
      if (grant.mode === "lease") {
        // The ledger's clock may differ from this machine's: count the lease's life from here.
        const life = Math.max(0, Math.min(MAX_LEASE_LIFE_MS, grant.expiresAt - Date.now()));
        const lease: Lease = {
          id: grant.id,
          amount: grant.amount,
          estimate: grant.estimate,
          remaining: grant.amount,
          expiresAt: now + life,
          // A long quota lease is renewed from its half-life: a tenant sending at least that often never waits.
          renewAt: now + life * (budget.subject.kind === "quota" && life > HAND_BACK_LEASES_UP_TO_MS ? 0.5 : 0.75),
          known: 0,
          unknownSends: 0,
          inFlight: 0,
          unknownAt: 0,
        };
        if (this.usable(budget.lease, now)) {
          if (budget.next) budget.retired.push(budget.next);
          budget.next = lease;
        } else {
          this.retire(budget);
          budget.lease = lease;
        }
        budget.mode = "lease";
        if (budget.subject.kind === "quota" && life <= HAND_BACK_LEASES_UP_TO_MS) {
          const wait = Math.max(life / 2, life - HAND_BACK_BEFORE_MS);
          ctx.waitUntil(sleep(wait).then(() => this.handBack(budget, lease, ctx)));
        }
      } else if (grant.mode === "refused") {
        this.refuse(budget, grant.code);
      } else {
        budget.mode = "strict";
        budget.recheckAt = now + RECHECK_MS;
      }
    })().finally(() => {
      budget.acquiring = null;
    });
    return budget.acquiring;
  }

  private returnOf(l: Lease): LeaseReturn {
    return {
      id: l.id,
      known: l.known,
      unknownSends: l.unknownSends,
      inFlight: l.inFlight,
      maxCost: this.maxCost,
      ...(l.unknownAt ? { unknownAt: l.unknownAt } : {}),
    };
  }

  /** A quota lease near its expiry, still held here (unused, or retired and not reported yet): back to the ledger. */
  private async handBack(budget: Budget, lease: Lease, ctx: BudgetContext): Promise<void> {
    if (budget.lease === lease) {
      budget.lease = budget.next;
      budget.next = null;
      if (!budget.lease) budget.mode = "unknown";
    } else if (budget.next === lease) {
      budget.next = null;
    } else {
      const at = budget.retired.indexOf(lease);
      if (at < 0) return; // reported with a lease request already
      budget.retired.splice(at, 1);
    }
    this.counters.ledgerCallsBackground++;
    await ctx
      .ledger(budget.subject)
      .release(budget.subject, this.returnOf(lease))
      .catch(() => budget.retired.push(lease)); // reported with the next lease request instead
  }

  private refuse(budget: Budget, code: RefusalCode, hard = false): void {
    budget.mode = "refused";
    budget.refusal = code;
    budget.hard = hard;
    budget.recheckAt = this.clock.now() + (hard ? RECHECK_MS : REFUSAL_RECHECK_MS);
  }

  /**
   * A send's answer: its cost in cents (null when Zavu did not say; the estimate then stands until
   * the ledger's next refresh), or Zavu's own 402 refusal. A quota counts the send itself.
   */
  settle(admission: Admission, outcome: SendOutcome, ctx: BudgetContext): void {
    if (outcome.cost !== null && outcome.cost > this.maxCost) this.maxCost = outcome.cost;
    for (const claim of admission.claims) this.settleClaim(claim, outcome, ctx);
    if (admission.quota) {
      const notSent = outcome.sent === false || outcome.refused !== undefined;
      admission.quota.counted = notSent ? null : outcome.sent === true ? "sent" : "unknown";
    }
  }

  private settleClaim(claim: Claim, outcome: SendOutcome, ctx: BudgetContext): void {
    const { refused } = outcome;
    const notSent = outcome.sent === false || refused !== undefined;
    // Money: the cost (null: not known yet). A quota: one send, or none (null: perhaps; counted).
    const charged =
      claim.budget.subject.kind === "quota"
        ? notSent
          ? 0
          : outcome.sent === true
            ? 1
            : null
        : notSent
          ? 0
          : outcome.cost;
    // Nobody knows whether Zavu took it (a timeout, a reset): Zavu may still count it after the answer was
    // lost, so its estimate must outlive refreshes that start before Zavu could have (see ledger-math).
    const unknownOutcome = outcome.sent === null && !notSent;
    if (claim.kind === "lease") {
      claim.lease.inFlight -= claim.estimate;
      if (unknownOutcome) claim.lease.unknownAt = this.clock.now();
      if (charged === null) claim.lease.unknownSends++;
      else claim.lease.known += charged;
      // A known cost gives back what its estimate held; an unknown one keeps the estimate taken.
      claim.lease.remaining += charged === null ? 0 : claim.estimate - charged;
    } else {
      this.counters.ledgerCallsBackground++;
      const ledger = ctx.ledger(claim.budget.subject);
      const refusedHere = this.matches(claim.budget, refused) ? refused : undefined;
      ctx.waitUntil(
        ledger.settle(claim.budget.subject, claim.id, charged, refusedHere, unknownOutcome).catch(() => undefined),
      );
    }
    if (refused && this.matches(claim.budget, refused)) {
      this.refuse(claim.budget, refused, true);
      if (claim.kind === "lease") {
        this.counters.ledgerCallsBackground++;
        ctx.waitUntil(
          ctx
            .ledger(claim.budget.subject)
            .exhausted(claim.budget.subject, refused)
            .catch(() => undefined),
        );
      }
    }
  }

  /** Zavu's credit_limit_reached concerns the tenant's budget, insufficient_balance the team's. */
  private matches(budget: Budget, code: RefusalCode | undefined): code is RefusalCode {
    const kind = budget.subject.kind;
    return (
      (code === "credit_limit_reached" && kind === "tenant") || (code === "insufficient_balance" && kind === "team")
    );
  }

  /** The tenant changed (its limit, perhaps): ask its ledgers again on the next send instead of refusing locally. */
  reconsider(tenantId: string): void {
    for (const budget of [this.tenants.get(tenantId), this.quotas.get(tenantId)]) {
      if (budget && (budget.mode === "refused" || budget.mode === "strict")) {
        budget.mode = "unknown";
        budget.recheckAt = 0;
      }
    }
  }

  stats() {
    return {
      tenants: this.tenants.stats(),
      quotas: this.quotas.stats(),
      team: {
        mode: this.team.mode,
        lease: this.team.lease?.remaining ?? null,
        estimate: this.team.lease?.estimate ?? 0,
      },
    };
  }
}
