import { counters } from "../storage/counters";

/** Every D1, KV and Zavu call the gateway makes is counted in `counters`: a run's spend is their growth. */
function callsSoFar(): number {
  return (
    counters.d1Queries + counters.kvReads + counters.kvReadsBackground + counters.kvWrites + counters.upstreamCalls
  );
}

/**
 * What a maintenance run may still spend: subrequests (measured, not estimated) and wall time.
 * Calls other requests make in the same isolate meanwhile count too, which only errs on the safe side.
 */
export class Budget {
  private readonly base = callsSoFar();

  constructor(
    readonly limit: number,
    readonly deadline: number,
  ) {}

  get spent(): number {
    return callsSoFar() - this.base;
  }

  get remaining(): number {
    return Math.max(0, this.limit - this.spent);
  }

  /** Whether a unit of work that may make up to `cost` calls can still start. */
  allows(cost: number): boolean {
    return this.remaining >= cost && Date.now() < this.deadline;
  }

  /** A share of what is left, for one job. */
  slice(limit: number): Budget {
    return new Budget(Math.min(limit, this.remaining), this.deadline);
  }
}
