import { type Context, Hono } from "hono";
import type { ApiKeyRow, Store, SubAccountRow } from "../store";
import {
  decodeCursor,
  encodeCursor,
  isPlainObject,
  jsonBody,
  MAX_PAGE,
  parseLimit,
  type Vars,
  zavuError,
} from "./shared";

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

function creditLimitField(
  v: unknown,
  allowNull: boolean,
): { ok: true; value: number | null | undefined } | { ok: false } {
  if (v === undefined) return { ok: true, value: undefined };
  if (v === null) return allowNull ? { ok: true, value: null } : { ok: false };
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) return { ok: false };
  return { ok: true, value: v === 0 ? null : v };
}

/** /v1/sub-accounts and everything under it: the main account's key only. */
export function subAccountRoutes(store: Store): Hono<Vars> {
  const app = new Hono<Vars>();

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

  return app;
}
