import type { MiddlewareHandler } from "hono";
import { config } from "../config";
import type { Env } from "../env";
import { authenticateAdmin } from "../lib/admin-token";

/**
 * Admin authentication as middleware, in the manner of hono/bearer-auth: every route registered
 * after it requires the admin token. The configured tokens are read and checked once per isolate
 * (config.ts): a missing or short ADMIN_TOKEN is a deployment mistake, answered 503 not_configured on
 * every admin call rather than guarded by a weak secret.
 */
export function adminAuth<E extends { Bindings: Env; Variables: { actor?: string } }>(
  opts: { actorHeader?: string; onBehalfOf?: string } = {},
): MiddlewareHandler<E> {
  return async (c, next) => {
    const onBehalfOf = opts.onBehalfOf ?? (opts.actorHeader ? c.req.header(opts.actorHeader) : undefined);
    c.set("actor", await authenticateAdmin(c.req.header("authorization"), config(c.env).adminTokens, onBehalfOf));
    await next();
  };
}
