import { config } from "../config";
import type { Env } from "../env";
import { type ApiError, apiError } from "../errors";
import { BoundedCache } from "../lib/bounded-cache";
import type { Clock } from "../lib/clock";
import type { Counters } from "../lib/counters";
import type { PlanLimit } from "../lib/plan-values";
import type { EdgeTenant } from "../storage/tenants";
import { effectivePlan, type Plan } from "./plan";

/** One rate limit of a plan, as a Rate Limiting binding counts it. */
export interface RateWindow {
  limit: Extract<PlanLimit, "requestsPerSecond" | "sendsPerMinute">;
  /** The wrangler.toml binding for this value. */
  binding: string;
  /** Calls allowed per window. */
  quota: number;
  seconds: 10 | 60;
  /** The policy's name in the RateLimit headers. */
  policy: string;
}

/** A tenant's plan, and its rate limits as bindings: worked out once per tenant entry. */
export interface TenantLimits {
  plan: Plan;
  requests: RateWindow | null;
  sends: RateWindow | null;
}

function windowsOf(plan: Plan): Omit<TenantLimits, "plan"> {
  const rps = plan.requestsPerSecond;
  const spm = plan.sendsPerMinute;
  return {
    requests:
      rps === null
        ? null
        : { limit: "requestsPerSecond", binding: `RL_RPS_${rps}`, quota: rps * 10, seconds: 10, policy: "requests" },
    sends:
      spm === null
        ? null
        : { limit: "sendsPerMinute", binding: `RL_SPM_${spm}`, quota: spm, seconds: 60, policy: "sends" },
  };
}

/** Seconds until the window that holds `now` ends (windows are aligned to the clock), at least 1. */
export const secondsLeft = (now: number, seconds: number) =>
  Math.max(1, Math.ceil((seconds * 1000 - (now % (seconds * 1000))) / 1000));

/** The IETF httpapi RateLimit fields (draft-ietf-httpapi-ratelimit-headers) of a refusal, and Retry-After. */
export function limitHeaders(policy: string, quota: number, windowSeconds: number, retryAfter: number) {
  return {
    "retry-after": String(retryAfter),
    "ratelimit-policy": `"${policy}";q=${quota};w=${windowSeconds}`,
    ratelimit: `"${policy}";r=0;t=${retryAfter}`,
  };
}

function refusal(w: RateWindow, retryAfter: number): ApiError {
  const unit = w.limit === "requestsPerSecond" ? `${w.quota / 10} requests a second` : `${w.quota} sends a minute`;
  const err = apiError("rate_limited", `This tenant's plan allows ${unit}; try again in ${retryAfter} s.`, {
    limit: w.limit,
    retryAfterSeconds: retryAfter,
  });
  err.headers = limitHeaders(w.policy, w.quota, w.seconds, retryAfter);
  return err;
}

/**
 * A tenant's plan, enforced in one isolate: rate limits through the Workers Rate Limiting binding of
 * its value (one call per limit per request; the binding keeps its counters on the machine, per
 * location), and what this isolate remembers of refusals: a limit that refused stands here until its
 * window ends, without asking the binding again. Bounded: 10,000 tenants' refusals and alert marks.
 */
export class RateLimits {
  private readonly limits = new WeakMap<EdgeTenant, TenantLimits>();
  private readonly refusedUntil: BoundedCache<string, number>;
  /** tenant id -> the hour this isolate last emitted tenant.rate_limited for it. */
  private readonly alerted: BoundedCache<string, number>;
  private refusalsRemembered = 0;
  private bindingErrors = 0;

  constructor(
    private readonly clock: Clock,
    private readonly counters: Counters,
  ) {
    this.refusedUntil = new BoundedCache({ maxEntries: 10_000, ttlMs: 60_000, clock });
    this.alerted = new BoundedCache({ maxEntries: 10_000, ttlMs: 3_600_000, clock });
  }

  /** The tenant's effective plan (its own limits over the deployment's defaults). */
  forTenant(tenant: EdgeTenant, env: Env): TenantLimits {
    let limits = this.limits.get(tenant);
    if (!limits) {
      const plan = effectivePlan(tenant.plan, config(env).defaultPlan);
      limits = { plan, ...windowsOf(plan) };
      this.limits.set(tenant, limits);
    }
    return limits;
  }

  /**
   * Counts this request against its rate limit, or refuses it (429 rate_limited with Retry-After and
   * RateLimit headers): a send against sendsPerMinute when the plan has one, anything else (and sends
   * when it has none) against requestsPerSecond, with balance reads in a bucket of their own. One
   * binding call per request; sends never starve balance reads.
   */
  async check(env: Env, tenantId: string, limits: TenantLimits, route: { balance: boolean; send: boolean }) {
    const window = route.send && limits.sends ? limits.sends : limits.requests;
    if (!window) return;
    const key = window === limits.requests && route.balance ? `${tenantId}:balance` : tenantId;
    this.standing(window, key, this.clock.now());
    if (!(await this.ask(env, window, key))) this.refuse(window, key);
  }

  private standing(w: RateWindow, key: string, now: number): void {
    const until = this.refusedUntil.get(`${w.binding}|${key}`);
    if (until !== undefined && until > now) throw refusal(w, Math.max(1, Math.ceil((until - now) / 1000)));
  }

  private async ask(env: Env, w: RateWindow, key: string): Promise<boolean> {
    const binding = (env as unknown as Record<string, RateLimit | undefined>)[w.binding];
    if (!binding) {
      this.bindingErrors++; // a value with no binding in this environment: let it through (wrangler.toml lists them all)
      return true;
    }
    this.counters.rateLimitChecks++;
    try {
      return (await binding.limit({ key })).success;
    } catch {
      this.bindingErrors++;
      return true;
    }
  }

  private refuse(w: RateWindow, key: string): never {
    const now = this.clock.now();
    const left = secondsLeft(now, w.seconds);
    this.refusalsRemembered++;
    this.refusedUntil.set(`${w.binding}|${key}`, now + left * 1000, left * 1000);
    throw refusal(w, left);
  }

  /** Whether this isolate should emit tenant.rate_limited now: once per tenant and hour (the event id dedupes across isolates). */
  shouldAlert(tenantId: string, hour: number): boolean {
    if (this.alerted.get(tenantId) === hour) return false;
    this.alerted.set(tenantId, hour);
    return true;
  }

  stats() {
    return {
      refusals: this.refusedUntil.stats(),
      refusalsRemembered: this.refusalsRemembered,
      bindingErrors: this.bindingErrors,
    };
  }
}
