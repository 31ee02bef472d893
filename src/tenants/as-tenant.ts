import { apiError } from "../errors";
import { openKey } from "../storage/key-vault";
import type { TenantRecord } from "../storage/tenants";
import { zavuCall } from "../upstream/zavu-client";
import type { TenantContext } from "./context";

/** The tenant's own Zavu key, opened from D1 (a live tenant's only). */
export async function tenantKey(deps: TenantContext, tenant: TenantRecord): Promise<string> {
  if (tenant.status === "provisioning") throw apiError("invalid_state", "This tenant is still provisioning.");
  if (tenant.status === "deactivated" || !tenant.keyCiphertext) {
    throw apiError("invalid_state", "This tenant has been deactivated.");
  }
  return openKey(deps.kek, tenant.id, tenant.keyCiphertext).catch(() => {
    throw apiError("internal_error", "The gateway could not open this tenant's stored key.");
  });
}

/** One JSON call to Zavu as the tenant's sub-account (what it does is charged to the sub-account). */
export function asTenant<T>(deps: TenantContext, apiKey: string, method: string, path: string, body?: unknown) {
  return zavuCall<T>(deps.upstreamBase, apiKey, method, path, {
    body,
    timeoutMs: deps.upstreamTimeoutMs,
    counters: deps.counters,
    requestId: deps.requestId,
  });
}

/** The names of the tenant's senders, by Zavu id (the first 100; for the console, which holds only ids). */
export async function senderNames(deps: TenantContext, tenant: TenantRecord): Promise<Map<string, string>> {
  const key = await tenantKey(deps, tenant);
  const page = await asTenant<{ items?: Array<{ id?: unknown; name?: unknown }> }>(
    deps,
    key,
    "GET",
    "/v1/senders?limit=100",
  );
  const names = new Map<string, string>();
  for (const s of page.items ?? []) {
    if (typeof s.id === "string" && typeof s.name === "string") names.set(s.id, s.name);
  }
  return names;
}
