/** The limits a tenant's plan sets (limits/ enforces them); each is a number or null, unlimited. */
export const PLAN_LIMITS = ["requestsPerSecond", "sendsPerMinute", "dailySends"] as const;
export type PlanLimit = (typeof PLAN_LIMITS)[number];

/**
 * The values requestsPerSecond and sendsPerMinute may take. The Workers Rate Limiting binding has one
 * fixed limit per binding, so wrangler.toml declares one binding per value (RL_RPS_<n>: 10n requests
 * per 10 s; RL_SPM_<n>: n sends per 60 s) and a tenant's plan picks its binding.
 */
export const REQUESTS_PER_SECOND = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] as const;
export const SENDS_PER_MINUTE = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] as const;
export const MAX_DAILY_SENDS = 100_000_000;

/** Why a value cannot be a plan's limit, or null when it can. */
export function planValueProblem(limit: PlanLimit, value: number | null): string | null {
  if (value === null) return null;
  if (limit === "requestsPerSecond" && !(REQUESTS_PER_SECOND as readonly number[]).includes(value)) {
    return `must be null (unlimited) or one of ${REQUESTS_PER_SECOND.join(", ")}`;
  }
  if (limit === "sendsPerMinute" && !(SENDS_PER_MINUTE as readonly number[]).includes(value)) {
    return `must be null (unlimited) or one of ${SENDS_PER_MINUTE.join(", ")}`;
  }
  if (limit === "dailySends" && !(Number.isSafeInteger(value) && value >= 1 && value <= MAX_DAILY_SENDS)) {
    return `must be null (unlimited) or a whole number from 1 to ${MAX_DAILY_SENDS}`;
  }
  return null;
}
