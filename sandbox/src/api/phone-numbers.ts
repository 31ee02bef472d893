import { type Context, Hono } from "hono";
import type { PhoneNumberRow, SenderStore } from "../senders";
import type { Store } from "../store";
import { accountOf, decodeCursor, jsonBody, MAX_PAGE, pageOf, parseLimit, type Vars, zavuError } from "./shared";

/** Every number of the form +1555010xxxx is for sale unless someone in the team owns it. */
const POOL_PREFIX = "+1555010";
const IN_POOL = /^\+1555010\d{4}$/;
const E164 = /^\+[1-9]\d{6,14}$/;
/** Monthly price in cents (the sandbox charges it once, at purchase, as a "phone_number" charge). */
const phoneNumberPrice = (store: Store) => store.prices().phone_number ?? 0;

function toOwned(row: PhoneNumberRow, senderId: string | undefined, cents: number) {
  const renewal = new Date(row.created_at);
  renewal.setUTCMonth(renewal.getUTCMonth() + 1);
  return {
    id: row.id,
    phoneNumber: row.phone_number,
    capabilities: ["sms", "voice"],
    status: "active" as const,
    pricing: { monthlyCost: cents, monthlyPrice: cents / 100, upfrontCost: 0, isFreeNumber: false },
    ...(row.name !== null ? { name: row.name } : {}),
    ...(senderId ? { senderId } : {}),
    nextRenewalDate: renewal.toISOString(),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const friendly = (n: string) => `(${n.slice(2, 5)}) ${n.slice(5, 8)}-${n.slice(8)}`;

/** /v1/phone-numbers: any key, scoped to the caller's account. */
export function phoneNumberRoutes(store: Store, senders: SenderStore): Hono<Vars> {
  const app = new Hono<Vars>();
  const invalid = (c: Context, message: string) => zavuError(c, 400, "invalid_request", message);
  const owned = (row: PhoneNumberRow) =>
    toOwned(row, senders.senderByPhone(row.account, row.phone_number)?.id, phoneNumberPrice(store));
  const find = (c: Context<Vars>) => senders.phoneNumber(accountOf(c.var.caller), c.req.param("id") ?? "");
  const notFound = (c: Context) => zavuError(c, 404, "not_found", "Phone number not found.");

  app.get("/v1/phone-numbers/available", (c) => {
    const countryCode = c.req.query("countryCode");
    if (!countryCode || !/^[A-Za-z]{2}$/.test(countryCode)) {
      return invalid(c, "countryCode (a two-letter ISO country code) is required.");
    }
    const limit = parseLimit(c.req.query("limit"), 10);
    if (limit === null) return invalid(c, `limit must be an integer from 1 to ${MAX_PAGE}.`);
    if (countryCode.toUpperCase() !== "US") return c.json({ items: [] });
    const contains = (c.req.query("contains") ?? "").replace(/\D/g, "");
    const taken = senders.ownedWithPrefix(POOL_PREFIX);
    const cents = phoneNumberPrice(store);
    const items = [];
    for (let i = 0; i < 10_000 && items.length < limit; i++) {
      const phoneNumber = `${POOL_PREFIX}${String(i).padStart(4, "0")}`;
      if (taken.has(phoneNumber) || !phoneNumber.slice(1).includes(contains)) continue;
      items.push({
        phoneNumber,
        friendlyName: friendly(phoneNumber),
        locality: "Sandbox",
        region: "CA",
        capabilities: { sms: true, voice: true, mms: false },
        pricing: { monthlyPrice: cents / 100, upfrontPrice: 0, isFreeEligible: false },
      });
    }
    return c.json({ items });
  });

  app.get("/v1/phone-numbers/requirements", (c) => {
    if (!c.req.query("countryCode")) return invalid(c, "countryCode is required.");
    return c.json({ items: [] });
  });

  app.get("/v1/phone-numbers", (c) => {
    const limit = parseLimit(c.req.query("limit"), 50);
    if (limit === null) return invalid(c, `limit must be an integer from 1 to ${MAX_PAGE}.`);
    const after = decodeCursor(c.req.query("cursor"), 0);
    if (after === null) return invalid(c, "cursor is not valid.");
    const status = c.req.query("status");
    const rows =
      status && status !== "active" ? [] : senders.listPhoneNumbers(accountOf(c.var.caller), limit + 1, after);
    return c.json(pageOf(rows, limit, owned));
  });

  app.get("/v1/phone-numbers/:id", (c) => {
    const row = find(c);
    return row ? c.json({ phoneNumber: owned(row) }) : notFound(c);
  });

  // Purchase: charged to the account like a send (credit limit and team balance enforced the same way).
  app.post("/v1/phone-numbers", async (c) => {
    const caller = c.var.caller;
    const body = await jsonBody(c);
    if (!body) return invalid(c, "Request body must be a JSON object.");
    const { phoneNumber, name } = body;
    if (typeof phoneNumber !== "string" || !E164.test(phoneNumber)) {
      return invalid(c, "phoneNumber must be an E.164 phone number.");
    }
    if (name !== undefined && typeof name !== "string") return invalid(c, "name must be a string.");
    if (!IN_POOL.test(phoneNumber) || senders.isOwned(phoneNumber)) {
      return zavuError(c, 404, "not_found", "Phone number is not available for purchase.");
    }
    const price = phoneNumberPrice(store);
    const { enforceLimits } = store.behaviour();
    if (caller.kind === "sub") {
      const sub = store.subAccount(caller.subAccountId)!;
      if (sub.status !== "active") {
        return zavuError(c, 403, "sub_account_inactive", "This sub-account is inactive.");
      }
      if (enforceLimits && sub.credit_limit && sub.total_spent + price > sub.credit_limit) {
        return zavuError(c, 402, "credit_limit_reached", "This sub-account's credit limit cannot cover this number.");
      }
    }
    if (enforceLimits && store.teamBalance() < price) {
      return zavuError(c, 402, "insufficient_balance", "The team balance cannot cover this number.");
    }
    store.charge(caller.kind === "sub" ? caller.subAccountId : null, price, "phone_number");
    const row = senders.buyPhoneNumber(accountOf(caller), phoneNumber, (name as string | undefined) ?? null);
    return c.json({ phoneNumber: owned(row) }, 201);
  });

  app.patch("/v1/phone-numbers/:id", async (c) => {
    const row = find(c);
    if (!row) return notFound(c);
    const body = await jsonBody(c);
    if (!body) return invalid(c, "Request body must be a JSON object.");
    if (body.name !== undefined && body.name !== null && typeof body.name !== "string") {
      return invalid(c, "name must be a string or null.");
    }
    if (body.senderId !== undefined) {
      if (body.senderId !== null && typeof body.senderId !== "string") {
        return invalid(c, "senderId must be a string or null.");
      }
      const current = senders.senderByPhone(row.account, row.phone_number);
      if (body.senderId === null) {
        if (current) senders.updateSender(current.id, { phone_number: "" });
      } else if (current?.id !== body.senderId) {
        const target = senders.sender(row.account, body.senderId);
        if (!target) return zavuError(c, 404, "not_found", "Sender not found.");
        if (current) senders.updateSender(current.id, { phone_number: "" });
        senders.updateSender(target.id, { phone_number: row.phone_number });
      }
    }
    if (body.name !== undefined) senders.renamePhoneNumber(row.id, body.name as string | null);
    return c.json({ phoneNumber: owned(senders.phoneNumber(row.account, row.id)!) });
  });

  // Release: refused while a sender uses the number (as Zavu documents).
  app.delete("/v1/phone-numbers/:id", (c) => {
    const row = find(c);
    if (!row) return notFound(c);
    if (senders.senderByPhone(row.account, row.phone_number)) {
      return invalid(c, "The phone number is assigned to a sender; unassign it first.");
    }
    senders.releasePhoneNumber(row.id);
    return c.body(null, 204);
  });

  return app;
}
