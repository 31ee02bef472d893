import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { createAdminApp } from "./admin/app";
import type { AppVariables } from "./app-types";
import { createConsoleApp } from "./console/app";
import type { Env } from "./env";
import { apiError, errorResponse, toErrorResponse } from "./errors";
import { deepCheck } from "./health/deep-check";
import { requestIdFor } from "./lib/request-id";
import { createPortalApp } from "./portal/app";
import type { IsolateState } from "./state";
import { authenticate } from "./team/authenticate";
import { requireSameOrigin } from "./team/same-origin";
import { VERSION } from "./version";

export type GatewayApp = Hono<{ Bindings: Env; Variables: AppVariables }>;

/** Health and the reseller admin API. (The customer edge is dispatched before Hono: see index.ts.) */
export function createApp(state: IsolateState): GatewayApp {
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

  // Before any authentication: a cross-site change is refused whoever it claims to be (team/same-origin.ts).
  for (const prefix of ["/admin/v1/*", "/console/*"]) {
    app.use(prefix, async (c, next) => {
      requireSameOrigin(c.req.raw);
      await next();
    });
  }

  app.route("/admin/v1", createAdminApp());
  app.route("/onboard", createPortalApp());
  app.route("/console", createConsoleApp());

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
