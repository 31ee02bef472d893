import type { Counters } from "../lib/counters";

/** Every D1, KV, Durable Object and Zavu call the gateway makes is counted: a run's spend is their growth. */
function callsSoFar(c: Counters): number {
  return (
    c.d1Queries +
    c.kvReads +
    c.kvReadsBackground +
    c.kvWrites +
    c.upstreamCalls +
    c.controlSyncs +
    c.controlSyncsBackground +
    c.ledgerCalls +
    c.ledgerCallsBackground +
    c.usageFlushes +
    c.webhookCalls
  );
}

/**
 * What a maintenance run may still spend: subrequests (measured from the isolate's counters, not
 * estimated) and time. Calls other requests make in the same isolate meanwhile count too, which
 * only errs on the safe side.
 */
export class Budget {
  private readonly base: number;

  constructor(
    private readonly counters: Counters,
    readonly limit: number,
    readonly deadline: number,
    private readonly now: () => number = Date.now,
  ) {
    this.base = callsSoFar(counters);
  }

  get spent(): number {
    return callsSoFar(this.counters) - this.base;
  }

  get remaining(): number {
    return Math.max(0, this.limit - this.spent);
  }

  /** Whether a unit of work that may make up to `cost` calls can still start. */
  allows(cost: number): boolean {
    return this.remaining >= cost && this.now() < this.deadline;
  }

  /** A share of what is left, for one job. */
  slice(limit: number): Budget {
    return new Budget(this.counters, Math.min(limit, this.remaining), this.deadline, this.now);
  }
}
