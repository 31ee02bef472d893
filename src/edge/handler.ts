import type { Context } from "hono";
import { config, type Env } from "../env";
import { ApiError } from "../errors";
import { openKey } from "../storage/key-vault";
import { forgetTenant, type ResolvedTenant } from "../identity/resolve-tenant";
import { authenticate, bearerToken } from "./authenticate";
import { admit, entryFromBalance, recordRefusal, recordSpend } from "./admission";
import { allowedRoutes, matchRoute } from "./routes";
import { forward } from "./proxy";
import { readBalance, writeBalance } from "../storage/balance-cache";
import type { AppVariables } from "../app-types";

function subAccountKey(tenant: ResolvedTenant, kek: string): Promise<string> {
  if (tenant.status === "deactivated") {
    return Promise.reject(new ApiError(403, "tenant_deactivated", "This tenant has been deactivated."));
  }
  if (tenant.status === "provisioning") {
    return Promise.reject(new ApiError(403, "tenant_not_ready", "This tenant is still being provisioned."));
  }
  if (!tenant.keyCiphertext) {
    return Promise.reject(new ApiError(403, "tenant_not_ready", "This tenant has no active Zavu key."));
  }
  tenant.apiKey ??= openKey(kek, tenant.id, tenant.keyCiphertext).catch(() => {
    tenant.apiKey = undefined;
    throw new ApiError(500, "internal_error", "The gateway could not open this tenant's stored key.");
  });
  return tenant.apiKey;
}

/**
 * The customer edge: a tenant's JWT in, the tenant's own sub-account key out, for the
 * allowlisted messaging and balance calls only.
 */
export async function edgeHandler(c: Context<{ Bindings: Env; Variables: AppVariables }>): Promise<Response> {
  const env = c.env;
  const cfg = config(env);
  const ctx = c.executionCtx;
  const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);
  const request = c.req.raw;
  const url = new URL(request.url);

  const token = bearerToken(request.headers.get("authorization") ?? undefined);
  const tenant = await authenticate(token, env.DB, { kv: env.CACHE, waitUntil });
  const route = matchRoute(allowedRoutes(cfg.extraRoutes), request.method, url.pathname);
  if (!route) {
    throw new ApiError(403, "route_not_allowed", `${request.method} ${url.pathname} is not available through this gateway.`);
  }
  const apiKey = await subAccountKey(tenant, env.KEY_ENCRYPTION_KEY);
  const deps = { kv: env.CACHE, upstreamBase: cfg.upstreamBase, timeoutMs: cfg.upstreamTimeoutMs, waitUntil };
  await admit(tenant, route, apiKey, deps);

  const response = await forward(request, url, {
    upstreamBase: cfg.upstreamBase,
    apiKey,
    requestId: c.var.requestId,
    timeoutMs: cfg.upstreamTimeoutMs,
    maxBodyBytes: cfg.maxBodyBytes,
  });

  if (response.status === 401) {
    // Zavu refused the stored key (rotated or revoked elsewhere): reload it from D1 next time,
    // and do not let the customer mistake this for a problem with their own token.
    forgetTenant(tenant.id);
    await response.body?.cancel();
    throw new ApiError(502, "upstream_auth_failed", "Zavu refused this tenant's credentials; the gateway will reload them.");
  }
  if (route.spending && (response.ok || response.status === 402)) {
    waitUntil(afterSpend(response.clone(), env.CACHE, tenant.id));
  } else if (route.kind === "balance" && response.ok) {
    waitUntil(afterBalance(response.clone(), env.CACHE, tenant));
  }
  return response;
}

async function afterSpend(response: Response, kv: KVNamespace, tenantId: string): Promise<void> {
  const body = (await response.json().catch(() => null)) as { code?: string; message?: { costTotal?: number } } | null;
  if (response.status === 402) return recordRefusal(kv, tenantId, body?.code ?? "");
  const cost = body?.message?.costTotal;
  if (typeof cost === "number") await recordSpend(kv, tenantId, cost);
}

/** GET /v1/balance is answered by Zavu and refreshes the cached position. */
async function afterBalance(response: Response, kv: KVNamespace, tenant: ResolvedTenant): Promise<void> {
  const balance = await response.json().catch(() => null);
  if (!balance || typeof (balance as { balance?: unknown }).balance !== "number") return;
  const previous = await readBalance(kv, tenant.id);
  await writeBalance(kv, tenant.id, entryFromBalance(balance as never, previous?.status ?? tenant.status));
}
