import { type Context, Hono } from "hono";
import { newId } from "./ids";
import type { ApiKeyRow, Caller, Store, SubAccountRow } from "./store";

/** Zavu's error shape. */
export function zavuError(c: Context, status: number, code: string, message: string) {
  return c.json({ code, message }, status as 400);
}

type Vars = { Variables: { caller: Caller } };

const CHANNELS = ["auto", "sms", "sms_oneway", "whatsapp", "telegram", "email", "instagram", "messenger", "voice"];
const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_PAGE = 100;

function toSubAccount(row: SubAccountRow) {
  return {
    id: row.id,
    name: row.name,
    externalId: row.external_id,
    status: row.status,
    totalSpent: row.total_spent,
    creditLimit: row.credit_limit,
    metadata: row.metadata ? JSON.parse(row.metadata) : null,
    createdAt: row.created_at,
  };
}

function toApiKey(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    environment: row.environment,
    keyPrefix: row.key_prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    permissions: row.permissions ? JSON.parse(row.permissions) : undefined,
  };
}

async function jsonBody(c: Context): Promise<Record<string, unknown> | null> {
  try {
    const body = await c.req.json();
    return body && typeof body === "object" && !Array.isArray(body) ? body : null;
  } catch {
    return null;
  }
}

function parseLimit(raw: string | undefined, fallback: number): number | null {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= MAX_PAGE ? n : null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** An optional integer cents field: undefined = absent, null = clear, else validated. */
function creditLimitField(
  v: unknown,
  allowNull: boolean,
): { ok: true; value: number | null | undefined } | { ok: false } {
  if (v === undefined) return { ok: true, value: undefined };
  if (v === null) return allowNull ? { ok: true, value: null } : { ok: false };
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) return { ok: false };
  return { ok: true, value: v === 0 ? null : v };
}

export function zavuApi(store: Store): Hono<Vars> {
  const app = new Hono<Vars>();

  // ---- sub-accounts: main-account key only --------------------------------------------

  const mainKeyOnly = async (c: Context<Vars>, next: () => Promise<void>) => {
    if (c.var.caller.kind !== "main") {
      await c.req.raw.body?.cancel();
      return zavuError(
        c,
        403,
        "forbidden",
        "Sub-account API keys cannot manage sub-accounts. Use the main account key.",
      );
    }
    await next();
  };
  app.use("/v1/sub-accounts", mainKeyOnly);
  app.use("/v1/sub-accounts/*", mainKeyOnly);

  const findSub = (c: Context) => store.subAccount(c.req.param("id") ?? "");
  const notFound = (c: Context) => zavuError(c, 404, "not_found", "Sub-account not found.");

  app.post("/v1/sub-accounts", async (c) => {
    const body = await jsonBody(c);
    if (!body) return zavuError(c, 400, "invalid_request", "Request body must be a JSON object.");
    if (body.accountType === "main") {
      return zavuError(
        c,
        400,
        "invalid_request",
        "Team already has a main account. Create a sub-account instead, or create a new team for another main account.",
      );
    }
    const { name, externalId, metadata } = body;
    if (typeof name !== "string" || name.trim() === "")
      return zavuError(c, 400, "invalid_request", "name is required.");
    if (name.length > 200) return zavuError(c, 400, "invalid_request", "name must be at most 200 characters.");
    if (externalId !== undefined && typeof externalId !== "string") {
      return zavuError(c, 400, "invalid_request", "externalId must be a string.");
    }
    const limit = creditLimitField(body.creditLimit, false);
    if (!limit.ok) return zavuError(c, 400, "invalid_request", "creditLimit must be a non-negative integer (cents).");
    if (metadata !== undefined && !isPlainObject(metadata)) {
      return zavuError(c, 400, "invalid_request", "metadata must be an object.");
    }
    const row = store.createSubAccount({
      name,
      externalId: externalId ?? null,
      creditLimit: limit.value ?? null,
      metadata: metadata ?? null,
    });
    const key = await store.createKey(row.id, "Default", "live", null);
    return c.json({ subAccount: { ...toSubAccount(row), apiKey: key.key } }, 201);
  });

  app.get("/v1/sub-accounts", (c) => {
    const limit = parseLimit(c.req.query("limit"), 50);
    if (limit === null) return zavuError(c, 400, "invalid_request", `limit must be an integer from 1 to ${MAX_PAGE}.`);
    const after = decodeCursor(c.req.query("cursor"), 0);
    if (after === null) return zavuError(c, 400, "invalid_request", "cursor is not valid.");
    const rows = store.listSubAccounts(limit + 1, after);
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null;
    return c.json({ items: page.map(toSubAccount), nextCursor });
  });

  app.get("/v1/sub-accounts/:id", (c) => {
    const row = findSub(c);
    return row ? c.json({ subAccount: toSubAccount(row) }) : notFound(c);
  });

  app.patch("/v1/sub-accounts/:id", async (c) => {
    const row = findSub(c);
    if (!row) return notFound(c);
    const body = await jsonBody(c);
    if (!body) return zavuError(c, 400, "invalid_request", "Request body must be a JSON object.");
    const fields: Partial<Record<keyof SubAccountRow, SqlStorageValue>> = {};
    if (body.name !== undefined) {
      if (typeof body.name !== "string" || body.name.trim() === "" || body.name.length > 200) {
        return zavuError(c, 400, "invalid_request", "name must be a non-empty string of at most 200 characters.");
      }
      fields.name = body.name;
    }
    if (body.externalId !== undefined) {
      if (body.externalId !== null && typeof body.externalId !== "string") {
        return zavuError(c, 400, "invalid_request", "externalId must be a string.");
      }
      fields.external_id = body.externalId as string | null;
    }
    const limit = creditLimitField(body.creditLimit, true);
    if (!limit.ok)
      return zavuError(c, 400, "invalid_request", "creditLimit must be a non-negative integer (cents) or null.");
    if (limit.value !== undefined) fields.credit_limit = limit.value;
    if (body.metadata !== undefined) {
      if (body.metadata !== null && !isPlainObject(body.metadata)) {
        return zavuError(c, 400, "invalid_request", "metadata must be an object.");
      }
      fields.metadata = body.metadata === null ? null : JSON.stringify(body.metadata);
    }
    if (body.status !== undefined) {
      if (body.status !== "active" && body.status !== "inactive") {
        return zavuError(c, 400, "invalid_request", 'status must be "active" or "inactive".');
      }
      fields.status = body.status;
    }
    store.updateSubAccount(row.id, fields);
    return c.json({ subAccount: toSubAccount(store.subAccount(row.id)!) });
  });

  app.delete("/v1/sub-accounts/:id", (c) => {
    const row = findSub(c);
    if (!row) return notFound(c);
    store.updateSubAccount(row.id, { status: "inactive" });
    const keysRevoked = store.revokeAllKeys(row.id);
    return c.json({
      keysRevoked,
      message: `Sub-account ${row.id} deactivated. ${keysRevoked} API key(s) revoked; remaining balance returned to the team.`,
    });
  });

  app.get("/v1/sub-accounts/:id/balance", (c) => {
    const row = findSub(c);
    if (!row) return notFound(c);
    return c.json({
      balance: store.teamBalance(),
      currency: "usd",
      creditLimit: row.credit_limit,
      totalSpent: row.total_spent,
      isSubAccount: true,
    });
  });

  app.get("/v1/sub-accounts/:id/api-keys", (c) => {
    const row = findSub(c);
    if (!row) return notFound(c);
    return c.json({ items: store.listKeys(row.id).map(toApiKey) });
  });

  app.post("/v1/sub-accounts/:id/api-keys", async (c) => {
    const row = findSub(c);
    if (!row) return notFound(c);
    const body = await jsonBody(c);
    if (!body) return zavuError(c, 400, "invalid_request", "Request body must be a JSON object.");
    const { name, environment = "live", permissions } = body;
    if (typeof name !== "string" || name.trim() === "")
      return zavuError(c, 400, "invalid_request", "name is required.");
    if (environment !== "live" && environment !== "test") {
      return zavuError(c, 400, "invalid_request", 'environment must be "live" or "test".');
    }
    if (permissions !== undefined && !(Array.isArray(permissions) && permissions.every((p) => typeof p === "string"))) {
      return zavuError(c, 400, "invalid_request", "permissions must be an array of strings.");
    }
    const key = await store.createKey(row.id, name, environment, (permissions as string[] | undefined) ?? null);
    return c.json({ apiKey: key }, 201);
  });

  app.delete("/v1/sub-accounts/:id/api-keys/:keyId", (c) => {
    const row = findSub(c);
    if (!row) return notFound(c);
    if (!store.revokeKey(row.id, c.req.param("keyId"))) {
      return zavuError(c, 404, "not_found", "API key not found.");
    }
    return c.body(null, 204);
  });

  // ---- balance: any key ---------------------------------------------------------------

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

  const accountOf = (caller: Caller) => (caller.kind === "main" ? "main" : caller.subAccountId);

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

    const price = store.prices()[channel] ?? 0;
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
    store.charge(caller.kind === "sub" ? caller.subAccountId : null, price);
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

function encodeCursor(seq: number): string {
  return btoa(`s:${seq}`).replace(/=+$/, "");
}

function decodeCursor(raw: string | undefined, fallback: number): number | null {
  if (!raw) return fallback;
  try {
    const match = /^s:(\d+)$/.exec(atob(raw));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}
