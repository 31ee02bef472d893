import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AdminEnv } from "../common";
import { registerListApiKeys } from "./api-keys";
import { registerTenantBalance } from "./balance";
import { registerCreateTenant } from "./create";
import { registerDeactivateTenant } from "./deactivate";
import { registerEventDeliveries } from "./event-deliveries";
import { registerGetTenant } from "./get";
import { registerReplaceIdentity } from "./identity";
import { registerImportTenant } from "./import";
import { registerListTenants } from "./list";
import { registerTenantPhoneNumbers } from "./phone-numbers";
import { registerRepairTenant } from "./repair";
import { registerRotateKey } from "./rotate-key";
import { registerUpdateTenant } from "./update";
import { registerTenantUsage } from "./usage";

/** The tenant endpoints, one file each (in the order the OpenAPI document lists them). */
export function registerTenantRoutes(app: OpenAPIHono<AdminEnv>) {
  registerCreateTenant(app);
  registerListTenants(app);
  registerGetTenant(app);
  registerUpdateTenant(app);
  registerDeactivateTenant(app);
  registerRepairTenant(app);
  registerImportTenant(app);
  registerReplaceIdentity(app);
  registerTenantBalance(app);
  registerListApiKeys(app);
  registerRotateKey(app);
  registerTenantUsage(app);
  registerEventDeliveries(app);
  registerTenantPhoneNumbers(app);
}
