import type { MiddlewareHandler } from "hono";
import type { Role } from "../lib/roles";
import { requireRole } from "../lib/roles";
import { authenticate } from "../team/authenticate";
import type { AdminEnv } from "./routes/common";

/**
 * Admin authentication as middleware, in the manner of hono/bearer-auth: every route registered after
 * it requires a principal (an admin API key, a person Cloudflare Access let in, or ADMIN_TOKEN; see
 * team/authenticate.ts). Each route then checks the role it needs (routes/common.ts adminRoute).
 */
export function adminAuth(opts: { actorHeader: string }): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const principal = await authenticate({
      env: c.env,
      state: c.var.state,
      headers: c.req.raw.headers,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
      note: c.req.header(opts.actorHeader),
    });
    c.set("principal", principal);
    c.set("actor", principal.actor);
    await next();
  };
}

/** A route's role check: 403 forbidden, naming the role needed, before the request is even validated. */
export function roleCheck(needed: Role): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    requireRole(c.var.principal.role, needed);
    await next();
  };
}
