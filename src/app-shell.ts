import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppVariables } from "./app-types";
import type { Env } from "./env";
import { apiError, errorResponse, toErrorResponse } from "./errors";
import { deepCheck } from "./health/deep-check";
import { requestIdFor } from "./lib/request-id";
import type { IsolateState } from "./state";
import { authenticate } from "./team/authenticate";
import { VERSION } from "./version";

export type GatewayApp = Hono<{ Bindings: Env; Variables: AppVariables }>;

/**
 * What every Hono app of the gateway has: the request id and the isolate state on each request,
 * GET /healthz, and the answers for no route and for errors. `routes` adds the rest (app.ts).
 */
export function createShellApp(state: IsolateState, routes?: (app: GatewayApp) => void): GatewayApp {
  const app: GatewayApp = new Hono();

  app.use(async (c, next) => {
    const requestId = requestIdFor(c.req.raw);
    c.set("requestId", requestId);
    c.set("state", state);
    await next();
    c.res.headers.set("x-request-id", requestId);
  });

  app.get("/healthz", async (c) => {
    const deep = c.req.query("deep");
    if (deep === undefined || deep === "0" || deep === "false") return c.json({ status: "ok", version: VERSION });
    await authenticate({
      env: c.env,
      state: c.var.state,
      headers: c.req.raw.headers,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
    });
    const { ok, checks } = await deepCheck(c.env, c.var.state.counters);
    return c.json({ status: ok ? "ok" : "degraded", version: VERSION, checks }, ok ? 200 : 503);
  });

  routes?.(app);

  // The path is not repeated: a crafted link puts what it likes in it, and some clients render answers.
  app.notFound((c) => errorResponse(apiError("not_found", `No route for ${c.req.method} at this path.`)));
  app.onError((err, c) => {
    if (err instanceof HTTPException && err.status < 500) {
      // Hono's own refusals (e.g. malformed JSON in a validated body): all of them the client's doing.
      const code = err.status === 413 ? "payload_too_large" : err.status === 401 ? "unauthorized" : "invalid_request";
      return errorResponse(apiError(code, err.message || undefined));
    }
    return toErrorResponse(err, c.get("requestId"), c.req.path);
  });
  return app;
}
