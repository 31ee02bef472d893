import type { Env } from "../env";

/** A tenant's event relay (Durable Object, one per tenant). */
export const tenantEvents = (env: Env, tenantId: string) => env.EVENTS.get(env.EVENTS.idFromName(tenantId));
