import type { PlanLimits, PlanOverrides } from "../storage/tenants";

/** A tenant's limits; null means unlimited. */
export type Plan = PlanLimits;

/** The tenant's own limits over the deployment's defaults. */
export function effectivePlan(overrides: PlanOverrides | null, base: Plan): Plan {
  return overrides ? { ...base, ...overrides } : base;
}
