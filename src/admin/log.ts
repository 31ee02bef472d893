import type { MiddlewareHandler } from "hono";
import { elapsedMs, log } from "../lib/log";
import type { AdminEnv } from "./routes/common";

/**
 * One structured line per admin call, written after the answer is known (errors included:
 * the app's error handler has already turned them into the response this middleware sees).
 */
export const logAdminCall: MiddlewareHandler<AdminEnv> = async (c, next) => {
  const started = performance.now();
  await next();
  const status = c.res.status;
  let code: string | null = null;
  if (status >= 400 && c.res.headers.get("content-type")?.startsWith("application/json")) {
    code = (
      (await c.res
        .clone()
        .json()
        .catch(() => null)) as { code?: unknown } | null
    )?.code as string | null;
    if (typeof code !== "string") code = null;
  }
  const route = c.req.matchedRoutes.findLast((r) => r.method !== "ALL")?.path ?? c.req.routePath;
  log({
    kind: "admin",
    requestId: c.var.requestId,
    actor: c.var.admin?.actor ?? null,
    method: c.req.method,
    route,
    tenantId: /\/tenants\/(tnt_[0-9a-z]{26})(?:\/|$)/.exec(c.req.path)?.[1] ?? null,
    status,
    latencyMs: elapsedMs(started),
    code,
  });
};
