import { config } from "../config";
import { controlPlane } from "../control/binding";
import type { Env } from "../env";
import { ApiError, apiError, toErrorResponse } from "../errors";
import type { TenantEntry } from "../identity/tenant-resolver";
import { type CacheHits, elapsedMs, log } from "../lib/log";
import { requestIdFor } from "../lib/request-id";
import { limitHeaders, type TenantLimits } from "../limits/rate-limits";
import { ledgerFor } from "../spend/binding";
import type { Admission, BudgetContext } from "../spend/budgets";
import type { LedgerSubject } from "../spend/spend-ledger";
import type { IsolateState } from "../state";
import { type Keyring, openKey } from "../storage/key-vault";
import { TenantRepo } from "../storage/tenants";
import { utcDay } from "../usage/rows";
import { bearerToken } from "./authenticate";
import { answerByGateway } from "./gateway-routes";
import { rateLimitedAlert, recordUsage } from "./outcomes";
import { forward } from "./proxy";
import { matchRoute, routesFor } from "./routes";
import { type SendAnswer, settleSend } from "./spend";
import { checkTenantStatus } from "./tenant-gate";

function subAccountKey(entry: TenantEntry, kek: Keyring): Promise<string> {
  entry.apiKey ??= openKey(kek, entry.tenant.id, entry.tenant.keyCiphertext!).catch(() => {
    entry.apiKey = undefined;
    throw apiError("internal_error", "The gateway could not open this tenant's stored key.");
  });
  return entry.apiKey;
}

/**
 * The customer edge: a tenant's JWT in, the tenant's own sub-account key out, for the
 * allowlisted messaging and balance calls only. Every answer carries an x-request-id.
 */
export async function handleEdge(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  state: IsolateState,
): Promise<Response> {
  const startedAt = performance.now();
  const requestId = requestIdFor(request);
  const url = new URL(request.url);
  const trace: Trace = {
    tenantId: null,
    route: null,
    upstreamStatus: null,
    cache: {},
    send: false,
    answer: null,
    quota: null,
  };
  let response: Response;
  let refusal: string | null = null;
  try {
    response = await proxyForTenant(request, url, env, ctx, requestId, state, trace);
  } catch (err) {
    response = toErrorResponse(err, requestId, url.pathname);
    refusal = err instanceof ApiError ? err.code : "internal_error";
    if (err instanceof ApiError && err.status === 429 && trace.tenantId)
      rateLimitedAlert(env, ctx, state, trace.tenantId, err);
  }
  if (trace.send && trace.tenantId)
    recordUsage(env, ctx, state, trace.tenantId, response.status, refusal, trace.answer, trace.quota);
  response.headers.set("x-request-id", requestId);
  // Logs by policy, not by volume: every refusal, error and slow request; a sample of the rest.
  const latencyMs = elapsedMs(startedAt);
  const { logSampleRate, logSlowMs } = config(env);
  const always = refusal !== null || response.status >= 400 || latencyMs >= logSlowMs;
  if (always || Math.random() < logSampleRate) {
    log({
      kind: "request",
      requestId,
      tenantId: trace.tenantId,
      method: request.method,
      route: trace.route,
      status: response.status,
      upstreamStatus: trace.upstreamStatus,
      latencyMs,
      cache: trace.cache,
      refusal,
      sampleRate: always ? 1 : logSampleRate,
    });
  }
  return response;
}

/** What the request log line says about a request, filled in as the request goes. */
interface Trace {
  tenantId: string | null;
  route: string | null;
  upstreamStatus: number | null;
  cache: CacheHits;
  /** A message send: counted in the tenant's usage records. */
  send: boolean;
  /** What the send's answer said, when the gateway read it (or will have, in the background). */
  answer: SendAnswer | Promise<SendAnswer> | null;
  /** The send's daily-quota claim, and how the quota counted it (recorded with the usage). */
  quota: Admission["quota"];
}

async function proxyForTenant(
  request: Request,
  url: URL,
  env: Env,
  ctx: ExecutionContext,
  requestId: string,
  state: IsolateState,
  trace: Trace,
): Promise<Response> {
  const cfg = config(env);
  const waitUntil = ctx.waitUntil.bind(ctx);

  const token = bearerToken(request.headers.get("authorization") ?? undefined);
  const plane = () => controlPlane(env);
  const fresh = await state.control.ensureFresh(plane, waitUntil);
  const entry = await state.tenants.authenticate(token, {
    repo: new TenantRepo(env.DB, state.counters),
    fresh,
    control: state.control,
    remote: { kv: env.CACHE, waitUntil, allowHttpLoopback: cfg.allowHttpJwks },
    plane,
    hits: trace.cache,
  });
  const { tenant } = entry;
  trace.tenantId = tenant.id;
  trace.cache.key = entry.apiKey !== undefined;
  const route = matchRoute(routesFor(cfg.extraRoutes), request.method, url.pathname);
  if (!route)
    throw apiError("route_not_allowed", `${request.method} ${url.pathname} is not available through this gateway.`);
  trace.route = `${route.method} ${route.template}`;
  trace.send = route.send;
  checkTenantStatus(tenant, route);
  if (route.send) {
    // Zavu refused a send for the whole team moments ago: its answer again, without asking it.
    const held = state.holds.replay();
    if (held) {
      trace.answer = { status: held.response.status, code: held.code, channel: null, costCents: null, text: null };
      return held.response;
    }
  }
  const limits = state.limits.forTenant(tenant, env);
  await state.limits.check(env, tenant.id, limits, { balance: route.kind === "balance", send: route.send });
  const apiKey = await subAccountKey(entry, cfg.keyring);
  const forwardOpts = {
    upstreamBase: cfg.upstreamBase,
    apiKey,
    requestId,
    timeoutMs: cfg.upstreamTimeoutMs,
    maxBodyBytes: cfg.maxBodyBytes,
    counters: state.counters,
  };
  if (route.byGateway) {
    return answerByGateway(route, request, url, {
      db: env.DB,
      counters: state.counters,
      cfg,
      tenantId: tenant.id,
      forward: forwardOpts,
      onUpstreamAuthFailed: () => state.tenants.forgetTenant(tenant.id),
      trace,
    });
  }

  const budgetCtx = new RequestBudgets(env, waitUntil);
  const admission = route.spending ? await admit(state, tenant, budgetCtx, limits, route.send) : null;
  trace.quota = admission?.quota ?? null;
  let response: Response;
  try {
    response = await forward(request, url, forwardOpts);
  } catch (err) {
    // Refused before sending (413, 415) charges nothing; a timeout may have been charged: the estimate stands.
    const status = (err as { status?: number }).status;
    const before = status === 413 || status === 415;
    if (admission)
      state.budgets.settle(admission, before ? { sent: false, cost: 0 } : { sent: null, cost: null }, budgetCtx);
    throw err;
  }

  trace.upstreamStatus = response.status;
  if (response.status === 401) {
    // Zavu refused the stored key (rotated or revoked elsewhere): reload it from D1 next time,
    // and do not let the customer mistake this for a problem with their own token.
    state.tenants.forgetTenant(tenant.id);
    if (admission) state.budgets.settle(admission, { sent: false, cost: 0 }, budgetCtx);
    await response.body?.cancel();
    throw apiError("upstream_auth_failed");
  }
  if (!admission) return response;
  const settled = await settleSend(response, admission, state.budgets, budgetCtx, cfg.usageExact);
  if (route.send) {
    trace.answer = settled.answer;
    if (settled.answer instanceof Promise) waitUntil(settled.answer.then((a) => holdTeamRefusal(state, a, response)));
    else holdTeamRefusal(state, settled.answer, response);
  }
  return settled.response;
}

/** A 429 of Zavu's for the whole team: replayed for a moment instead of asking Zavu again (UpstreamHolds). */
function holdTeamRefusal(state: IsolateState, a: SendAnswer, response: Response): void {
  if (a.status === 429 && a.code && a.text !== null) state.holds.remember(a.code, a.status, a.text, response.headers);
}

/**
 * What the budgets need of this request: the ledgers of this deployment, and its waitUntil. A class,
 * so a request makes no closures for it (each named closure costs a defineProperty in the bundle).
 */
class RequestBudgets implements BudgetContext {
  constructor(
    private readonly env: Env,
    readonly waitUntil: (p: Promise<unknown>) => void,
  ) {}

  ledger(subject: LedgerSubject) {
    return ledgerFor(this.env, subject);
  }
}

/** The send's claims on the budgets (credit limit, daily quota, team balance); a quota refusal says when it resets. */
async function admit(
  state: IsolateState,
  tenant: TenantEntry["tenant"],
  ctx: BudgetContext,
  limits: TenantLimits,
  send: boolean,
): Promise<Admission> {
  const daily = limits.plan.dailySends;
  const now = state.clock.now();
  const day = daily !== null && send ? utcDay(now) : null;
  try {
    return await state.budgets.admit(tenant, ctx, day ? { limit: daily!, day: day.date } : null);
  } catch (err) {
    if (err instanceof ApiError && err.code === "daily_quota_exceeded" && day) {
      const retryAfter = Math.max(1, Math.ceil((day.endsAt - now) / 1000));
      const refused = apiError(
        "daily_quota_exceeded",
        `This tenant's plan allows ${daily} sends a day (UTC); the quota resets in ${retryAfter} s.`,
        { limit: "dailySends", retryAfterSeconds: retryAfter },
      );
      refused.headers = limitHeaders("daily-sends", daily!, 86_400, retryAfter);
      throw refused;
    }
    if (err instanceof ApiError) throw err;
    // The ledger could not be asked (overloaded, reset, unreachable): nothing was sent, and a client may retry.
    const unavailable = apiError("budget_unavailable");
    unavailable.headers = { "retry-after": "1" };
    throw unavailable;
  }
}
