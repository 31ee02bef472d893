import { type Context, Hono } from "hono";
import { newId } from "../ids";
import type { SenderStore } from "../senders";
import type { Store } from "../store";
import { isUndeliverable, type Webhooks } from "../webhooks";
import {
  accountOf,
  decodeCursor,
  encodeCursor,
  isPlainObject,
  jsonBody,
  MAX_PAGE,
  parseLimit,
  type Vars,
  zavuError,
} from "./shared";

const CHANNELS = ["auto", "sms", "sms_oneway", "whatsapp", "telegram", "email", "instagram", "messenger", "voice"];
const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** /v1/balance (any key) and /v1/messages (any key, scoped to the caller's account). */
export function messageRoutes(store: Store, senders: SenderStore, webhooks: Webhooks): Hono<Vars> {
  const app = new Hono<Vars>();

  app.get("/v1/balance", (c) => {
    const caller = c.var.caller;
    if (caller.kind === "main") return c.json({ balance: store.teamBalance(), currency: "usd" });
    const row = store.subAccount(caller.subAccountId)!;
    return c.json({
      balance: store.teamBalance(),
      currency: "usd",
      creditLimit: row.credit_limit,
      totalSpent: row.total_spent,
      isSubAccount: true,
    });
  });

  // ---- messages: any key, scoped to the caller's account ---------------------------------

  app.post("/v1/messages", async (c) => {
    const caller = c.var.caller;
    const body = await jsonBody(c);
    if (!body) return zavuError(c, 400, "invalid_request", "Request body must be a JSON object.");
    const to = body.to;
    if (typeof to !== "string" || to.trim() === "") return zavuError(c, 400, "invalid_request", "to is required.");
    const requested = body.channel ?? "auto";
    if (typeof requested !== "string" || !CHANNELS.includes(requested)) {
      return zavuError(c, 400, "invalid_request", `channel must be one of ${CHANNELS.join(", ")}.`);
    }
    const channel = requested === "auto" ? (EMAIL.test(to) ? "email" : "sms") : requested;
    if (
      channel === "email"
        ? !EMAIL.test(to)
        : ["sms", "sms_oneway", "whatsapp", "voice"].includes(channel) && !E164.test(to)
    ) {
      return zavuError(
        c,
        400,
        "invalid_request",
        `to is not a valid ${channel === "email" ? "email address" : "E.164 phone number"}.`,
      );
    }
    if (body.text !== undefined && typeof body.text !== "string") {
      return zavuError(c, 400, "invalid_request", "text must be a string.");
    }
    const account = accountOf(caller);
    const idempotencyKey =
      (typeof body.idempotencyKey === "string" && body.idempotencyKey) || c.req.header("idempotency-key") || null;
    if (idempotencyKey) {
      const previous = store.messageByIdempotencyKey(account, idempotencyKey);
      if (previous) return c.json({ message: previous });
    }

    // Recipients ending in 0000 fail (message.queued, then message.failed) and cost nothing.
    const undeliverable = isUndeliverable(to);
    const price = undeliverable ? 0 : (store.prices()[channel] ?? 0);
    const { enforceLimits, costAtAccept } = store.behaviour();
    if (caller.kind === "sub") {
      const sub = store.subAccount(caller.subAccountId)!;
      if (sub.status !== "active") {
        return zavuError(c, 403, "sub_account_inactive", "This sub-account is inactive; messaging is blocked.");
      }
      if (enforceLimits && sub.credit_limit && sub.total_spent >= sub.credit_limit) {
        return zavuError(c, 402, "credit_limit_reached", "This sub-account has reached its credit limit.");
      }
    }
    if (enforceLimits && store.teamBalance() < price) {
      return zavuError(c, 402, "insufficient_balance", "The team balance cannot cover this message.");
    }
    // The team's own limits (Zavu's documented 429s): every account of the team counts together.
    const { dailyLimit, a2pLimit } = store.limits();
    const today = store.today();
    const a2p = (channel === "sms" || channel === "sms_oneway") && to.startsWith("+1");
    const untilMidnight = String(Math.ceil((86_400_000 - (Date.now() % 86_400_000)) / 1000));
    if (dailyLimit !== null && today.sends >= dailyLimit) {
      c.header("retry-after", untilMidnight);
      return zavuError(c, 429, "daily_limit_exceeded", "The team has reached its daily sending limit.");
    }
    if (a2p && a2pLimit !== null && today.a2p >= a2pLimit) {
      c.header("retry-after", untilMidnight);
      return zavuError(c, 429, "a2p_limit_exceeded", "The team has reached its A2P limit for US SMS today.");
    }
    store.countSend(a2p);
    if (!undeliverable) store.charge(caller.kind === "sub" ? caller.subAccountId : null, price, channel);
    const message = {
      id: newId("msg_"),
      channel,
      createdAt: new Date().toISOString(),
      direction: "outbound",
      messageType: typeof body.messageType === "string" ? body.messageType : "text",
      status: "queued",
      to,
      text: typeof body.text === "string" ? body.text : undefined,
      from: c.req.header("zavu-sender") ?? undefined,
      metadata: isPlainObject(body.metadata) ? body.metadata : undefined,
      // Zavu's cost fields are nullable: a send accepted as queued may not know its cost yet.
      cost: costAtAccept ? price / 100 : null,
      costProvider: costAtAccept ? 0 : null,
      costTotal: costAtAccept ? price / 100 : null,
    };
    store.insertMessage(account, idempotencyKey, message);
    // Its sender: the Zavu-Sender header's (when it names one of this account's senders), else the account's
    // default. A header naming no sender of the account is accepted as before, with no events.
    const senderHeader = c.req.header("zavu-sender");
    const sender = senderHeader ? senders.sender(account, senderHeader) : senders.defaultSender(account);
    await webhooks.scheduleSend({ messageId: message.id, account, senderId: sender?.id ?? null, to, cents: price });
    return c.json({ message }, 202);
  });

  app.get("/v1/messages", (c) => {
    const limit = parseLimit(c.req.query("limit"), 50);
    if (limit === null) return zavuError(c, 400, "invalid_request", `limit must be an integer from 1 to ${MAX_PAGE}.`);
    const before = decodeCursor(c.req.query("cursor"), Number.MAX_SAFE_INTEGER);
    if (before === null) return zavuError(c, 400, "invalid_request", "cursor is not valid.");
    const rows = store.listMessages(accountOf(c.var.caller), limit + 1, before);
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null;
    return c.json({ items: page.map((r) => r.body), nextCursor });
  });

  const findMessage = (c: Context<Vars>) => store.message(accountOf(c.var.caller), c.req.param("id") ?? "");
  const messageNotFound = (c: Context) => zavuError(c, 404, "not_found", "Message not found.");

  app.get("/v1/messages/:id", (c) => {
    const message = findMessage(c);
    return message ? c.json({ message }) : messageNotFound(c);
  });

  app.get("/v1/messages/:id/attachments", (c) => (findMessage(c) ? c.json({ items: [] }) : messageNotFound(c)));

  app.post("/v1/messages/:id/reactions", async (c) => {
    const original = findMessage(c);
    if (!original) return messageNotFound(c);
    const body = await jsonBody(c);
    if (!body || typeof body.emoji !== "string" || body.emoji === "") {
      return zavuError(c, 400, "invalid_request", "emoji is required.");
    }
    const reaction = {
      id: newId("msg_"),
      channel: original.channel,
      createdAt: new Date().toISOString(),
      direction: "outbound",
      messageType: "reaction",
      status: "queued",
      to: original.to,
      content: { emoji: body.emoji, reactToMessageId: original.id },
    };
    store.insertMessage(accountOf(c.var.caller), null, reaction);
    return c.json({ message: reaction });
  });

  app.post("/v1/messages/:id/typing", (c) => (findMessage(c) ? c.json({ success: true }) : messageNotFound(c)));

  return app;
}
