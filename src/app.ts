import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Env } from "./env";
import type { AppVariables } from "./app-types";
import { ApiError, errorResponse } from "./errors";
import { VERSION } from "./version";
import { edgeHandler } from "./edge/handler";
import { createAdminApp } from "./admin/app";

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export type GatewayApp = Hono<{ Bindings: Env; Variables: AppVariables }>;

/** The gateway: health, the reseller admin API and the customer edge, with one error handler. */
export function createApp(): GatewayApp {
  const app: GatewayApp = new Hono();

  app.use(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    await next();
    c.res.headers.set("x-request-id", requestId);
  });

  app.get("/healthz", (c) => c.json({ status: "ok", version: VERSION }));

  app.route("/admin/v1", createAdminApp());
  app.all("/v1/*", edgeHandler);

  app.notFound((c) => errorResponse(new ApiError(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`)));
  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(err);
    if (err instanceof HTTPException && err.status < 500) {
      // Hono's own refusals (e.g. malformed JSON in a validated body).
      return errorResponse(new ApiError(err.status, err.status === 400 ? "invalid_request" : "http_error", err.message || "Bad request."));
    }
    // Log the kind of failure only: messages from lower layers could quote request data.
    console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), error: err.name, path: c.req.path }));
    return errorResponse(new ApiError(500, "internal_error", "The gateway failed to handle this request."));
  });
  return app;
}
