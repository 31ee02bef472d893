import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";
import { zavuApi, zavuError } from "./api";
import { controlApi } from "./control";
import type { SandboxEnv } from "./env";
import { CONNECTION_FAULT_HEADER, Faults } from "./faults";
import { SenderStore } from "./senders";
import { type Caller, Store } from "./store";
import { Webhooks } from "./webhooks";

/** Headers the request log keeps verbatim (everything else is listed by name only). */
const LOGGED_HEADERS = ["zavu-sender", "idempotency-key", "content-type", "user-agent", "x-request-id"];
/** The sandbox's host in tests: webhook posts to it are served in-process (it cannot fetch itself there). */
const SANDBOX_HOST = "zavu.sandbox";

/**
 * The whole sandbox team lives in one Durable Object, so every request sees a consistent
 * state, as it would against the real API.
 */
export class SandboxState extends DurableObject<SandboxEnv> {
  private readonly app = new Hono<{ Variables: { caller: Caller } }>();
  private readonly webhooks: Webhooks;
  /** Origins this object has been called on: webhook posts to them (its own hooks receiver) stay in-process. */
  private readonly selfOrigins = new Set<string>();

  constructor(ctx: DurableObjectState, env: SandboxEnv) {
    super(ctx, env);
    const store = new Store(ctx.storage.sql);
    const senders = new SenderStore(ctx.storage.sql);
    const faults = new Faults();
    const webhooks = new Webhooks(ctx.storage.sql, ctx.storage, store, senders, (request) => {
      const url = new URL(request.url);
      const self = url.hostname === SANDBOX_HOST || this.selfOrigins.has(url.origin);
      return self ? Promise.resolve(this.app.fetch(request)) : fetch(request);
    });
    this.webhooks = webhooks;

    this.app.route("/__sandbox", controlApi({ store, senders, webhooks, faults }));

    this.app.use("/v1/*", async (c, next) => {
      const url = new URL(c.req.url);
      const headers: Record<string, string> = {};
      for (const name of LOGGED_HEADERS) {
        const value = c.req.header(name);
        if (value !== undefined) headers[name] = value;
      }
      headers["*names"] = [...c.req.raw.headers.keys()].sort().join(",");

      const fault = faults.decide(c.req.method, url.pathname);
      if (fault.latencyMs > 0) await scheduler.wait(fault.latencyMs);

      const key = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
      const caller = key ? await store.authenticate(key, env.MAIN_API_KEY) : null;
      const resetBefore = fault.reset && !fault.reset.afterEffect;
      if ((fault.failure && !fault.failure.afterEffect) || resetBefore || !caller) await c.req.raw.body?.cancel();
      if (resetBefore) {
        c.res = zavuError(c, 500, "connection_reset", "The connection was reset.");
      } else if (fault.failure && !fault.failure.afterEffect) {
        c.res = zavuError(c, fault.failure.status, fault.failure.code, fault.failure.message);
      } else if (!caller) {
        c.res = zavuError(c, 401, "unauthorized", key ? "Invalid or revoked API key." : "Missing API key.");
      } else {
        c.set("caller", caller);
        await next();
        if (fault.failure) c.res = zavuError(c, fault.failure.status, fault.failure.code, fault.failure.message);
      }
      // Connection faults are the router's to carry out (test/workers/upstream-router.mjs).
      if (fault.reset) c.res.headers.set(CONNECTION_FAULT_HEADER, "reset");
      else if (fault.bodyDelayMs) c.res.headers.set(CONNECTION_FAULT_HEADER, `slow-body=${fault.bodyDelayMs}`);
      store.logRequest({
        method: c.req.method,
        path: url.pathname,
        query: url.search,
        status: c.res.status,
        subAccountId: caller?.kind === "sub" ? caller.subAccountId : null,
        keyId: caller ? (caller.kind === "sub" ? caller.keyId : "main") : null,
        headers,
      });
    });

    this.app.route("/", zavuApi(store, senders, webhooks));
    this.app.notFound((c) => zavuError(c, 404, "not_found", `No route for ${c.req.method} ${c.req.path}.`));
    this.app.onError((err, c) => {
      console.error("sandbox error", err);
      return zavuError(c, 500, "internal_error", "The sandbox failed to handle this request.");
    });
  }

  override fetch(request: Request): Promise<Response> {
    this.selfOrigins.add(new URL(request.url).origin);
    return Promise.resolve(this.app.fetch(request));
  }

  /** Due message events and webhook attempts (sandbox/src/webhooks.ts). */
  override async alarm(): Promise<void> {
    await this.webhooks.run();
  }
}
