import { config } from "../config";
import { controlPlane } from "../control/binding";
import type { Env } from "../env";
import { ApiError, apiError, toErrorResponse } from "../errors";
import type { TenantEntry } from "../identity/tenant-resolver";
import { type CacheHits, elapsedMs, log } from "../lib/log";
import { requestIdFor } from "../lib/request-id";
import { ledgerFor } from "../spend/binding";
import type { BudgetContext } from "../spend/budgets";
import type { IsolateState } from "../state";
import { type Keyring, openKey } from "../storage/key-vault";
import { TenantRepo } from "../storage/tenant-repo";
import { bearerToken } from "./authenticate";
import { forward } from "./proxy";
import { matchRoute, routesFor } from "./routes";
import { settleSend } from "./spend";
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
  const trace: Trace = { tenantId: null, route: null, upstreamStatus: null, cache: {} };
  let response: Response;
  let refusal: string | null = null;
  try {
    response = await proxyForTenant(request, url, env, ctx, requestId, state, trace);
  } catch (err) {
    response = toErrorResponse(err, requestId, url.pathname);
    refusal = err instanceof ApiError ? err.code : "internal_error";
  }
  response.headers.set("x-request-id", requestId);
  log({
    kind: "request",
    requestId,
    tenantId: trace.tenantId,
    method: request.method,
    route: trace.route,
    status: response.status,
    upstreamStatus: trace.upstreamStatus,
    latencyMs: elapsedMs(startedAt),
    cache: trace.cache,
    refusal,
  });
  return response;
}

/** What the request log line says about a request, filled in as the request goes. */
interface Trace {
  tenantId: string | null;
  route: string | null;
  upstreamStatus: number | null;
  cache: CacheHits;
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
  const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);

  const token = bearerToken(request.headers.get("authorization") ?? undefined);
  const fresh = await state.control.ensureFresh(controlPlane(env), waitUntil);
  const entry = await state.tenants.authenticate(token, {
    repo: new TenantRepo(env.DB, state.counters),
    fresh,
    control: state.control,
    remote: { kv: env.CACHE, waitUntil },
    hits: trace.cache,
  });
  const { tenant } = entry;
  trace.tenantId = tenant.id;
  trace.cache.key = entry.apiKey !== undefined;
  const route = matchRoute(routesFor(cfg.extraRoutes), request.method, url.pathname);
  if (!route)
    throw apiError("route_not_allowed", `${request.method} ${url.pathname} is not available through this gateway.`);
  trace.route = `${route.method} ${route.template}`;
  checkTenantStatus(tenant, route);
  const apiKey = await subAccountKey(entry, cfg.keyring);

  const budgetCtx: BudgetContext = { ledger: (subject) => ledgerFor(env, subject), waitUntil };
  const admission = route.spending ? await state.budgets.admit(tenant, budgetCtx) : null;
  let response: Response;
  try {
    response = await forward(request, url, {
      upstreamBase: cfg.upstreamBase,
      apiKey,
      requestId,
      timeoutMs: cfg.upstreamTimeoutMs,
      maxBodyBytes: cfg.maxBodyBytes,
      counters: state.counters,
    });
  } catch (err) {
    // Refused before sending (413) charges nothing; a timeout may have been charged: the estimate stands.
    if (admission) state.budgets.settle(admission, (err as { status?: number }).status === 413 ? 0 : null, budgetCtx);
    throw err;
  }

  trace.upstreamStatus = response.status;
  if (response.status === 401) {
    // Zavu refused the stored key (rotated or revoked elsewhere): reload it from D1 next time,
    // and do not let the customer mistake this for a problem with their own token.
    state.tenants.forgetTenant(tenant.id);
    if (admission) state.budgets.settle(admission, 0, budgetCtx);
    await response.body?.cancel();
    throw apiError("upstream_auth_failed");
  }
  if (admission) return settleSend(response, admission, state.budgets, budgetCtx);
  return response;
}
