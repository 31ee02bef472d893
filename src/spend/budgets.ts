import { apiError } from "../errors";
import { BoundedCache } from "../lib/bounded-cache";
import type { Clock } from "../lib/clock";
import type { Counters } from "../lib/counters";
import { type Grant, LEASE_MS, type RefusalCode, type Reservation } from "./ledger-math";
import type { LeaseReturn, LedgerSubject } from "./spend-ledger";

/** A ledger as an isolate reaches it: the Durable Object's RPC stub, or anything of the same shape. */
export interface LedgerApi {
  acquire(subject: LedgerSubject, holder: string, previous?: LeaseReturn): Promise<Grant>;
  reserve(subject: LedgerSubject, holder: string): Promise<Reservation>;
  settle(subject: LedgerSubject, id: string, cost: number | null, refused?: RefusalCode): Promise<void>;
  exhausted(subject: LedgerSubject, code: RefusalCode): Promise<void>;
}

interface Lease {
  id: string;
  amount: number;
  /** Cents of the lease not yet promised to a send. */
  remaining: number;
  expiresAt: number;
  /** Cents spent by answered sends (exact where Zavu said, else estimated). */
  used: number;
  /** Estimates of sends admitted and not yet answered. */
  inFlight: number;
}

/** This isolate's standing with one ledger. */
class Budget {
  lease: Lease | null = null;
  mode: "unknown" | "lease" | "strict" | "refused" = "unknown";
  /** Until then the strict or refused answer stands without asking the ledger for a lease again. */
  recheckAt = 0;
  refusal: RefusalCode | null = null;
  estimate = 0;
  acquiring: Promise<void> | null = null;
  constructor(readonly subject: LedgerSubject) {}
}

/** One admitted send's claim on one budget, settled when its answer is known. */
type Claim =
  | { budget: Budget; kind: "lease"; lease: Lease; estimate: number }
  | { budget: Budget; kind: "reservation"; id: string; estimate: number };

export interface Admission {
  claims: Claim[];
  /** Whether the send's exact cost matters now (a reservation to settle, a credit limit, no estimate yet). */
  needsExactCost: boolean;
}

export interface BudgetContext {
  ledger(subject: LedgerSubject): LedgerApi;
  waitUntil(p: Promise<unknown>): void;
}

/** Leases are renewed when this share of them is left. */
const RENEW_BELOW = 0.5;
/** A lease is not started on this close to its expiry. */
const EXPIRY_MARGIN_MS = 1_000;
/** How long the strict zone or a refusal stands before the isolate asks for a lease again. */
const RECHECK_MS = 2_000;

/**
 * Admission against the money the gateway guards, for one isolate: the team's balance, and the
 * tenant's credit limit when it has one. Far from the edge a send costs nothing here: it takes its
 * estimated cost from a lease this isolate holds. In the strict zone it reserves its cost from the
 * ledger (one Durable Object call) before it is forwarded.
 */
export class Budgets {
  private readonly team = new Budget({ kind: "team" });
  private readonly tenants: BoundedCache<string, Budget>;
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
  }

  async admit(
    tenant: { id: string; subAccountId: string | null; creditLimit: number | null },
    ctx: BudgetContext,
  ): Promise<Admission> {
    const claims: Claim[] = [];
    if (tenant.creditLimit && tenant.subAccountId) {
      let budget = this.tenants.get(tenant.id);
      if (!budget) {
        budget = new Budget({ kind: "tenant", tenantId: tenant.id, subAccountId: tenant.subAccountId });
        this.tenants.set(tenant.id, budget);
      }
      claims.push(await this.claim(budget, ctx));
    }
    try {
      claims.push(await this.claim(this.team, ctx));
    } catch (err) {
      for (const c of claims) this.settleClaim(c, null, ctx, undefined, true);
      throw err;
    }
    const needsExactCost =
      this.maxCost === 0 || tenant.creditLimit !== null || claims.some((c) => c.kind === "reservation");
    return { claims, needsExactCost };
  }

  private async claim(budget: Budget, ctx: BudgetContext): Promise<Claim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = this.clock.now();
      if (budget.mode === "refused" && now < budget.recheckAt) throw apiError(budget.refusal!);
      const lease = budget.lease;
      if (lease && now < lease.expiresAt - EXPIRY_MARGIN_MS && lease.remaining >= budget.estimate) {
        lease.remaining -= budget.estimate;
        lease.inFlight += budget.estimate;
        if (lease.remaining < lease.amount * RENEW_BELOW && !budget.acquiring) {
          this.counters.ledgerCallsBackground++;
          ctx.waitUntil(this.acquire(budget, ctx).catch(() => undefined));
        }
        return { budget, kind: "lease", lease, estimate: budget.estimate };
      }
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

  /** One lease request at a time per budget; it hands back the lease being replaced. */
  private acquire(budget: Budget, ctx: BudgetContext): Promise<void> {
    budget.acquiring ??= (async () => {
      const previous = budget.lease;
      const handBack = previous
        ? { id: previous.id, used: previous.used, inFlight: previous.inFlight, maxCost: this.maxCost }
        : undefined;
      const grant = await ctx.ledger(budget.subject).acquire(budget.subject, this.holder, handBack);
      const now = this.clock.now();
      budget.estimate = grant.estimate;
      if (grant.mode === "lease") {
        budget.lease = {
          id: grant.id,
          amount: grant.amount,
          remaining: grant.amount,
          // The ledger's clock may differ from this machine's: count the lease's life from here.
          expiresAt: now + Math.min(LEASE_MS, grant.expiresAt - Date.now()),
          used: 0,
          inFlight: 0,
        };
        budget.mode = "lease";
      } else {
        budget.lease = null;
        if (grant.mode === "refused") this.refuse(budget, grant.code);
        else {
          budget.mode = "strict";
          budget.recheckAt = now + RECHECK_MS;
        }
      }
    })().finally(() => {
      budget.acquiring = null;
    });
    return budget.acquiring;
  }

  private refuse(budget: Budget, code: RefusalCode): void {
    budget.mode = "refused";
    budget.refusal = code;
    budget.recheckAt = this.clock.now() + RECHECK_MS;
  }

  /**
   * A send's answer: its cost in cents (null when Zavu did not say; the estimate then stands until
   * the ledger's next refresh), or Zavu's own 402 refusal.
   */
  settle(admission: Admission, cost: number | null, ctx: BudgetContext, refused?: RefusalCode): void {
    if (cost !== null && cost > this.maxCost) this.maxCost = cost;
    for (const claim of admission.claims) this.settleClaim(claim, cost, ctx, refused, false);
  }

  private settleClaim(
    claim: Claim,
    cost: number | null,
    ctx: BudgetContext,
    refused: RefusalCode | undefined,
    notSent: boolean,
  ): void {
    const spent = notSent || refused ? 0 : (cost ?? claim.estimate);
    if (claim.kind === "lease") {
      claim.lease.inFlight -= claim.estimate;
      claim.lease.used += spent;
      claim.lease.remaining += claim.estimate - spent;
    } else {
      this.counters.ledgerCallsBackground++;
      const ledger = ctx.ledger(claim.budget.subject);
      ctx.waitUntil(
        ledger
          .settle(claim.budget.subject, claim.id, notSent ? 0 : cost, notSent ? undefined : refused)
          .catch(() => undefined),
      );
    }
    if (refused && this.matches(claim.budget, refused)) {
      this.refuse(claim.budget, refused);
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
  private matches(budget: Budget, code: RefusalCode): boolean {
    return (code === "credit_limit_reached") === (budget.subject.kind === "tenant");
  }

  /** A tenant's limit or state changed: forget its budget (a lease still held counts until it expires). */
  forgetTenant(tenantId: string): void {
    this.tenants.delete(tenantId);
  }

  reset(): void {
    this.tenants.clear();
  }

  stats() {
    return {
      tenants: this.tenants.stats(),
      team: { mode: this.team.mode, lease: this.team.lease?.remaining ?? null, estimate: this.team.estimate },
    };
  }
}
