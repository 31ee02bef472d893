import { alertSink } from "../alerts/emit";
import { hourOf } from "../alerts/events";
import { config } from "../config";
import type { Env } from "../env";
import type { ApiError } from "../errors";
import type { Admission } from "../spend/budgets";
import { DEFAULT_ESTIMATE_CENTS } from "../spend/ledger-math";
import type { IsolateState } from "../state";
import type { FlushContext } from "../usage/recorder";
import { usageShard } from "../usage/shards";
import type { SendAnswer } from "./spend";

/**
 * Counts the send in this isolate's usage records (no I/O: a flush hands them to a usage shard within
 * a second, in this request's waitUntil). A refusal counts under the code the customer got; a send the
 * daily quota counted, also under its quota claim.
 */
export function recordUsage(
  env: Env,
  ctx: ExecutionContext,
  state: IsolateState,
  tenantId: string,
  status: number,
  refusal: string | null,
  answer: SendAnswer | Promise<SendAnswer> | null,
  quota: Admission["quota"] = null,
): void {
  const flush = new UsageFlush(env, ctx);
  if (answer instanceof Promise)
    ctx.waitUntil(
      answer.then(
        (a) => record(env, state, flush, tenantId, status, refusal, a, quota),
        () => record(env, state, flush, tenantId, status, refusal, null, quota),
      ),
    );
  else record(env, state, flush, tenantId, status, refusal, answer, quota);
}

function record(
  env: Env,
  state: IsolateState,
  flush: FlushContext,
  tenantId: string,
  status: number,
  refusal: string | null,
  a: SendAnswer | null,
  quota: Admission["quota"],
): void {
  if (status >= 200 && status < 300)
    state.usage.accepted(
      tenantId,
      a?.channel ?? null,
      a?.costCents ?? null,
      config(env).sendCostEstimateCents ?? DEFAULT_ESTIMATE_CENTS,
    );
  else state.usage.refused(tenantId, refusal ?? a?.code ?? `http_${status}`);
  if (quota?.counted) state.usage.claimed(tenantId, quota.claimId, quota.counted);
  state.usage.flushSoon(flush);
}

/** Where a flush of the usage records goes, in this request's waitUntil. A class: no closures per request. */
class UsageFlush implements FlushContext {
  constructor(
    private readonly env: Env,
    private readonly ctx: ExecutionContext,
  ) {}

  waitUntil(p: Promise<unknown>): void {
    this.ctx.waitUntil(p);
  }

  shard(index: number) {
    return usageShard(this.env, index);
  }
}

/** tenant.rate_limited: the tenant's first refusal by its plan in this hour (once per isolate here; once overall by the event's id). */
export function rateLimitedAlert(
  env: Env,
  ctx: ExecutionContext,
  state: IsolateState,
  tenantId: string,
  err: ApiError,
): void {
  const limit = (err.details as { limit?: string } | undefined)?.limit;
  if (!limit) return; // Zavu's own 429s are replayed, not the tenant's plan
  const hour = hourOf(state.clock.now());
  if (!state.limits.shouldAlert(tenantId, hour)) return;
  const event = {
    type: "tenant.rate_limited" as const,
    tenantId,
    data: { tenantId, limit, hour: new Date(hour).toISOString() },
    once: `tenant.rate_limited:${tenantId}:${hour}`,
  };
  ctx.waitUntil(
    alertSink(env, state.counters)
      .emit(event)
      .catch(() => undefined),
  );
}
