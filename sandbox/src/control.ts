import { Hono } from "hono";
import { zavuError } from "./api";
import { toSender } from "./api/senders";
import type { Faults } from "./faults";
import type { SenderStore } from "./senders";
import type { Store } from "./store";
import type { Webhooks } from "./webhooks";

const isCents = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

const E164 = /^\+[1-9]\d{6,14}$/;

/** `/__sandbox/*`: state, prices, faults, the request log and webhook fixtures, for tests and demos. */
export function controlApi(parts: { store: Store; senders: SenderStore; webhooks: Webhooks; faults: Faults }): Hono {
  const { store, senders, webhooks, faults } = parts;
  const app = new Hono();

  app.post("/reset", (c) => {
    store.reset();
    senders.reset();
    webhooks.reset();
    faults.clear();
    return c.json({ ok: true });
  });

  const team = () => ({
    balance: store.teamBalance(),
    currency: "usd",
    prices: store.prices(),
    ...store.behaviour(),
    ...store.limits(),
    ...store.webhookTiming(),
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
    if (body.deliveryDelayMs !== undefined && !(isCents(body.deliveryDelayMs) && body.deliveryDelayMs >= 0)) {
      return zavuError(c, 400, "invalid_request", "deliveryDelayMs must be a non-negative integer.");
    }
    const retries = body.webhookRetryDelaysMs;
    if (retries !== undefined && !(Array.isArray(retries) && retries.every((d) => isCents(d) && d >= 0))) {
      return zavuError(c, 400, "invalid_request", "webhookRetryDelaysMs must be an array of non-negative integers.");
    }
    store.setWebhookTiming({ deliveryDelayMs: body.deliveryDelayMs, webhookRetryDelaysMs: retries });
    store.setBehaviour({ enforceLimits: body.enforceLimits, costAtAccept: body.costAtAccept });
    store.setLimits({ dailyLimit: body.dailyLimit, a2pLimit: body.a2pLimit });
    return c.json(team());
  });

  // Sends and cost per account and channel, as the sandbox charged them.
  app.get("/usage", (c) => c.json({ items: store.usage(c.req.query("account")) }));

  // A webhook receiver for development and tests: logs what arrives (GET /__sandbox/hooks), answers 200.
  // Faults apply (e.g. {path: "/__sandbox/hooks/*", status: 500, count: 2}) to make it fail; so does
  // ?status=NNN (400-599) on the URL, on every post.
  app.post("/hooks/:name", async (c) => {
    const name = c.req.param("name");
    const body = await c.req.text();
    const headers: Record<string, string> = {};
    for (const [k, v] of c.req.raw.headers) {
      if (k.startsWith("webhook-") || k.startsWith("x-zavu-") || k === "content-type" || k === "user-agent") {
        headers[k] = v;
      }
    }
    const fault = faults.decide("POST", new URL(c.req.url).pathname);
    const forced = Number(c.req.query("status"));
    if (!fault.failure && Number.isInteger(forced) && forced >= 400 && forced <= 599) {
      fault.failure = { status: forced, code: "forced_status", message: `Forced ${forced}.`, afterEffect: false };
    }
    if (fault.latencyMs > 0) await scheduler.wait(fault.latencyMs);
    const status = fault.failure?.status ?? 200;
    store.logHook({ name, status, headers, body });
    let type = "?";
    let id = "no id";
    try {
      const event = JSON.parse(body) as { type?: unknown; id?: unknown };
      type = String(event.type);
      if (typeof event.id === "string") id = event.id;
    } catch {}
    console.log(`[sandbox] webhook "${name}" received ${type} (${headers["webhook-id"] ?? id}): answered ${status}`);
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

  // ---- senders and their webhooks (fixtures: never part of the Zavu API) -----------------

  // The whole sender, webhook secret included, and the account it belongs to ("main" or a sub-account id).
  app.get("/senders/:id", (c) => {
    const row = senders.senderById(c.req.param("id"));
    if (!row) return zavuError(c, 404, "not_found", "Sender not found.");
    return c.json({ ...toSender(row, true), accountId: row.account });
  });

  // A contact writes to a sender: conversation.new (first message from that number only), then message.inbound.
  app.post("/inbound", async (c) => {
    const body = await c.req.json().catch(() => null);
    if (!body || typeof body !== "object") return zavuError(c, 400, "invalid_request", "Body must be a JSON object.");
    if (typeof body.senderId !== "string") return zavuError(c, 400, "invalid_request", "senderId is required.");
    if (typeof body.from !== "string" || !E164.test(body.from)) {
      return zavuError(c, 400, "invalid_request", "from must be an E.164 phone number.");
    }
    if (typeof body.text !== "string") return zavuError(c, 400, "invalid_request", "text must be a string.");
    const sender = senders.senderById(body.senderId);
    if (!sender) return zavuError(c, 404, "not_found", "Sender not found.");
    return c.json(await webhooks.inbound(sender, body.from, body.text));
  });

  // Every event queued for a webhook URL, newest first, with its attempts ({status (null: no answer), at (ISO)}).
  app.get("/webhook-deliveries", (c) => c.json({ items: webhooks.deliveries(c.req.query("senderId")) }));

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
