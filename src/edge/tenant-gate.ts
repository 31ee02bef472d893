import { apiError } from "../errors";
import type { EdgeTenant } from "../storage/tenants";
import type { AllowedRoute } from "./routes";

/**
 * What the tenant's status allows, read from its D1 row (kept current in every isolate by the
 * control plane): nothing when deactivated or still provisioning, only the balance when suspended.
 */
export function checkTenantStatus(tenant: EdgeTenant, route: AllowedRoute): void {
  if (tenant.status === "deactivated") throw apiError("tenant_deactivated");
  if (tenant.status === "provisioning") throw apiError("tenant_not_ready");
  if (!tenant.keyCiphertext) throw apiError("tenant_not_ready", "This tenant has no active Zavu key.");
  if (tenant.status === "inactive" && route.kind !== "balance") throw apiError("tenant_suspended");
}
