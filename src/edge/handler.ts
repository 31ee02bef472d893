import { config } from "../config";
import type { Env } from "../env";
import { apiError, toErrorResponse } from "../errors";
import { forgetTenant, type ResolvedTenant } from "../identity/resolve-tenant";
import { requestIdFor } from "../lib/request-id";
import { peekBalance, readBalance, writeBalance } from "../storage/balance-cache";
import { openKey } from "../storage/key-vault";
import { admit, entryFromBalance, needsExactCost, recordEstimatedSpend, recordRefusal, recordSpend } from "./admission";
import { authenticate, bearerToken } from "./authenticate";
import { forward } from "./proxy";
import { matchRoute, routesFor } from "./routes";

function subAccountKey(tenant: ResolvedTenant, kek: string): Promise<string> {
  if (tenant.status === "deactivated") {
    return Promise.reject(apiError("tenant_deactivated", "This tenant has been deactivated."));
  }
  if (tenant.status === "provisioning") {
    return Promise.reject(apiError("tenant_not_ready", "This tenant is still being provisioned."));
  }
  if (!tenant.keyCiphertext) {
    return Promise.reject(apiError("tenant_not_ready", "This tenant has no active Zavu key."));
  }
  tenant.apiKey ??= openKey(kek, tenant.id, tenant.keyCiphertext).catch(() => {
    tenant.apiKey = undefined;
    throw apiError("internal_error", "The gateway could not open this tenant's stored key.");
  });
  return tenant.apiKey;
}

/**
 * The customer edge: a tenant's JWT in, the tenant's own sub-account key out, for the
 * allowlisted messaging and balance calls only. Every answer carries an x-request-id.
 */
export async function handleEdge(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const requestId = requestIdFor(request);
  const url = new URL(request.url);
  let response: Response;
  try {
    response = await proxyForTenant(request, url, env, ctx, requestId);
  } catch (err) {
    response = toErrorResponse(err, requestId, url.pathname);
  }
  response.headers.set("x-request-id", requestId);
  return response;
}

async function proxyForTenant(
  request: Request,
  url: URL,
  env: Env,
  ctx: ExecutionContext,
  requestId: string,
): Promise<Response> {
  const cfg = config(env);
  const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);

  const token = bearerToken(request.headers.get("authorization") ?? undefined);
  const tenant = await authenticate(token, env.DB, { kv: env.CACHE, waitUntil });
  const route = matchRoute(routesFor(cfg.extraRoutes), request.method, url.pathname);
  if (!route) {
    throw apiError("route_not_allowed", `${request.method} ${url.pathname} is not available through this gateway.`);
  }
  const apiKey = await subAccountKey(tenant, env.KEY_ENCRYPTION_KEY);
  await admit(tenant, route, apiKey, {
    kv: env.CACHE,
    upstreamBase: cfg.upstreamBase,
    timeoutMs: cfg.upstreamTimeoutMs,
    waitUntil,
  });

  const response = await forward(request, url, {
    upstreamBase: cfg.upstreamBase,
    apiKey,
    requestId,
    timeoutMs: cfg.upstreamTimeoutMs,
    maxBodyBytes: cfg.maxBodyBytes,
  });

  if (response.status === 401) {
    // Zavu refused the stored key (rotated or revoked elsewhere): reload it from D1 next time,
    // and do not let the customer mistake this for a problem with their own token.
    forgetTenant(tenant.id);
    await response.body?.cancel();
    throw apiError("upstream_auth_failed", "Zavu refused this tenant's credentials; the gateway will reload them.");
  }
  if (route.spending && (response.ok || response.status === 402)) {
    const entry = peekBalance(tenant.id);
    if (response.status === 402 || needsExactCost(entry))
      return withSpendRecorded(response, env.CACHE, tenant.id, waitUntil);
    recordEstimatedSpend(tenant.id, entry!);
    return response;
  }
  if (route.kind === "balance" && response.ok) waitUntil(afterBalance(response.clone(), env.CACHE, tenant));
  return response;
}

/** Answers to spending calls are small JSON: read once here rather than teeing the stream. */
const MAX_SPEND_BODY = 64 * 1024;

/** Reads `costTotal` (or a 402's code) from a send's answer and records it, answering with the same bytes. */
async function withSpendRecorded(
  response: Response,
  kv: KVNamespace,
  tenantId: string,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Response> {
  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  if (!(length <= MAX_SPEND_BODY)) {
    waitUntil(afterSpend(response.clone(), kv, tenantId));
    return response;
  }
  const text = await response.text();
  let body: { code?: string; message?: { costTotal?: number } } | null = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  if (response.status === 402) waitUntil(recordRefusal(kv, tenantId, body?.code ?? ""));
  else if (typeof body?.message?.costTotal === "number") waitUntil(recordSpend(kv, tenantId, body.message.costTotal));
  return new Response(text, response);
}

async function afterSpend(response: Response, kv: KVNamespace, tenantId: string): Promise<void> {
  const body = (await response.json().catch(() => null)) as { code?: string; message?: { costTotal?: number } } | null;
  if (response.status === 402) return recordRefusal(kv, tenantId, body?.code ?? "");
  const cost = body?.message?.costTotal;
  if (typeof cost === "number") await recordSpend(kv, tenantId, cost);
}

async function afterBalance(response: Response, kv: KVNamespace, tenant: ResolvedTenant): Promise<void> {
  const balance = await response.json().catch(() => null);
  if (!balance || typeof (balance as { balance?: unknown }).balance !== "number") return;
  const previous = await readBalance(kv, tenant.id);
  await writeBalance(kv, tenant.id, entryFromBalance(balance as never, previous?.status ?? tenant.status));
}
