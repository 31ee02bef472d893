import { Hono } from "hono";
import { zavuError } from "./api";
import type { Faults } from "./faults";
import type { Store } from "./store";

const isCents = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

/** `/__sandbox/*`: state, prices, faults and the request log, for tests and demos. */
export function controlApi(store: Store, faults: Faults): Hono {
  const app = new Hono();

  app.post("/reset", (c) => {
    store.reset();
    faults.clear();
    return c.json({ ok: true });
  });

  const team = () => ({
    balance: store.teamBalance(),
    currency: "usd",
    prices: store.prices(),
    ...store.behaviour(),
    ...store.limits(),
    today: store.today(),
  });
  app.get("/team", (c) => c.json(team()));

  app.patch("/team", async (c) => {
    const body = await c.req.json().catch(() => null);
    if (!body || typeof body !== "object") return zavuError(c, 400, "invalid_request", "Body must be a JSON object.");
    if (body.balance !== undefined) {
      if (!isCents(body.balance)) return zavuError(c, 400, "invalid_request", "balance must be an integer (cents).");
      store.setTeamBalance(body.balance);
    }
    if (body.prices !== undefined) {
      const prices = body.prices as Record<string, unknown>;
      if (typeof prices !== "object" || prices === null || !Object.values(prices).every((p) => isCents(p) && p >= 0)) {
        return zavuError(c, 400, "invalid_request", "prices must map channels to non-negative integer cents.");
      }
      store.setPrices(prices as Record<string, number>);
    }
    for (const flag of ["enforceLimits", "costAtAccept"] as const) {
      if (body[flag] !== undefined && typeof body[flag] !== "boolean") {
        return zavuError(c, 400, "invalid_request", `${flag} must be a boolean.`);
      }
    }
    for (const limit of ["dailyLimit", "a2pLimit"] as const) {
      if (body[limit] !== undefined && body[limit] !== null && !(isCents(body[limit]) && body[limit] >= 0)) {
        return zavuError(c, 400, "invalid_request", `${limit} must be a non-negative integer, or null for none.`);
      }
    }
    store.setBehaviour({ enforceLimits: body.enforceLimits, costAtAccept: body.costAtAccept });
    store.setLimits({ dailyLimit: body.dailyLimit, a2pLimit: body.a2pLimit });
    return c.json(team());
  });

  // Sends and cost per account and channel, as the sandbox charged them.
  app.get("/usage", (c) => c.json({ items: store.usage(c.req.query("account")) }));

  // A webhook receiver for development and tests: logs what arrives (GET /__sandbox/hooks), answers 200.
  // Faults apply (e.g. {path: "/__sandbox/hooks/*", status: 500, count: 2}) to make it fail.
  app.post("/hooks/:name", async (c) => {
    const name = c.req.param("name");
    const body = await c.req.text();
    const headers: Record<string, string> = {};
    for (const [k, v] of c.req.raw.headers)
      if (k.startsWith("webhook-") || k === "content-type" || k === "x-zavu-signature") headers[k] = v;
    const fault = faults.decide("POST", new URL(c.req.url).pathname);
    if (fault.latencyMs > 0) await scheduler.wait(fault.latencyMs);
    const status = fault.failure?.status ?? 200;
    store.logHook({ name, status, headers, body });
    let type = "?";
    try {
      type = String((JSON.parse(body) as { type?: unknown }).type);
    } catch {}
    console.log(
      `[sandbox] webhook "${name}" received ${type} (${headers["webhook-id"] ?? "no id"}): answered ${status}`,
    );
    if (fault.failure) return zavuError(c, fault.failure.status, fault.failure.code, fault.failure.message);
    return c.json({ ok: true });
  });
  app.get("/hooks", (c) => c.json({ items: store.hooks(c.req.query("name")) }));
  app.delete("/hooks", (c) => {
    store.clearHooks();
    return c.json({ ok: true });
  });

  // Lets a test put a sub-account at its credit limit without sending hundreds of messages.
  app.patch("/sub-accounts/:id", async (c) => {
    const row = store.subAccount(c.req.param("id"));
    if (!row) return zavuError(c, 404, "not_found", "Sub-account not found.");
    const body = await c.req.json().catch(() => null);
    if (!body || !isCents(body.totalSpent))
      return zavuError(c, 400, "invalid_request", "totalSpent (cents) is required.");
    store.updateSubAccount(row.id, { total_spent: body.totalSpent });
    return c.json({ ok: true });
  });

  app.get("/faults", (c) => c.json({ items: faults.list() }));
  app.post("/faults", async (c) => {
    const rule = await c.req.json().catch(() => null);
    if (!rule || typeof rule.path !== "string")
      return zavuError(c, 400, "invalid_request", "path (a glob) is required.");
    if (rule.status !== undefined && !(Number.isInteger(rule.status) && rule.status >= 400 && rule.status <= 599)) {
      return zavuError(c, 400, "invalid_request", "status must be an HTTP error status (400-599).");
    }
    return c.json({ fault: faults.add(rule) }, 201);
  });
  app.delete("/faults", (c) => {
    faults.clear();
    return c.json({ ok: true });
  });

  app.get("/requests", (c) => {
    const limit = Math.min(Number(c.req.query("limit") ?? 100) || 100, 10_000);
    const after = Number(c.req.query("after") ?? 0) || 0;
    return c.json({ items: store.requests(limit, after) });
  });
  app.delete("/requests", (c) => {
    store.clearRequests();
    return c.json({ ok: true });
  });

  return app;
}
