import { type Context, Hono } from "hono";
import { newWebhookSecret, type SenderRow, type SenderStore, type SignatureVersion } from "../senders";
import { accountOf, decodeCursor, jsonBody, MAX_PAGE, pageOf, parseLimit, type Vars, zavuError } from "./shared";

/** The SDK's WebhookEvent values. */
export const WEBHOOK_EVENTS = [
  "message.queued",
  "message.sent",
  "message.delivered",
  "message.read",
  "message.status",
  "message.failed",
  "message.inbound",
  "message.unsupported",
  "broadcast.status_changed",
  "conversation.new",
  "template.status_changed",
  "invitation.status_changed",
  "call.initiated",
  "call.answered",
  "call.completed",
  "call.failed",
  "domain.verified",
  "domain.failed",
];
/** What a webhook gets when it is set without webhookEvents (the sandbox's choice; Zavu's is undocumented). */
export const DEFAULT_WEBHOOK_EVENTS = ["message.inbound"];
const SIGNATURE_VERSIONS: SignatureVersion[] = ["v1", "v1+v2", "v2"];
const E164 = /^\+[1-9]\d{6,14}$/;
const LOOPBACK = ["127.0.0.1", "localhost", "[::1]"];

/** A webhook URL must be https, or http on a loopback host (local development: the sandbox only runs locally). */
export function isWebhookUrl(v: unknown): v is string {
  if (typeof v !== "string") return false;
  try {
    const url = new URL(v);
    return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.includes(url.hostname));
  } catch {
    return false;
  }
}

export function toSender(row: SenderRow, withSecret = false) {
  return {
    id: row.id,
    name: row.name,
    phoneNumber: row.phone_number,
    isDefault: row.is_default === 1,
    channels: [] as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.webhook_url
      ? {
          webhook: {
            url: row.webhook_url,
            events: JSON.parse(row.webhook_events) as string[],
            active: row.webhook_active === 1,
            signatureVersion: row.signature_version,
            ...(withSecret && row.secret ? { secret: row.secret } : {}),
          },
        }
      : {}),
  };
}

type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

function checkEvents(v: unknown): Checked<string[] | undefined> {
  if (v === undefined) return { ok: true, value: undefined };
  if (!Array.isArray(v) || !v.every((e) => typeof e === "string")) {
    return { ok: false, message: "webhookEvents must be an array of event names." };
  }
  const unknown = v.filter((e) => !WEBHOOK_EVENTS.includes(e));
  if (unknown.length > 0) return { ok: false, message: `Unknown webhook event(s): ${unknown.join(", ")}.` };
  return { ok: true, value: [...new Set(v as string[])] };
}

function checkVersion(v: unknown): Checked<SignatureVersion | undefined> {
  if (v === undefined) return { ok: true, value: undefined };
  if (!SIGNATURE_VERSIONS.includes(v as SignatureVersion)) {
    return { ok: false, message: 'webhookSignatureVersion must be "v1", "v1+v2" or "v2".' };
  }
  return { ok: true, value: v as SignatureVersion };
}

const badUrl = "webhookUrl must be an https URL (or http on 127.0.0.1, localhost or [::1]).";

/** /v1/senders: any key, scoped to the caller's account. */
export function senderRoutes(senders: SenderStore): Hono<Vars> {
  const app = new Hono<Vars>();
  const invalid = (c: Context, message: string) => zavuError(c, 400, "invalid_request", message);
  // Another account's sender answers exactly like an unknown id.
  const find = (c: Context<Vars>) => senders.sender(accountOf(c.var.caller), c.req.param("id") ?? "");
  const notFound = (c: Context) => zavuError(c, 404, "not_found", "Sender not found.");

  app.post("/v1/senders", async (c) => {
    const account = accountOf(c.var.caller);
    const body = await jsonBody(c);
    if (!body) return invalid(c, "Request body must be a JSON object.");
    const { name, phoneNumber, setAsDefault, webhookUrl } = body;
    if (typeof name !== "string" || name.trim() === "") return invalid(c, "name is required.");
    if (phoneNumber !== undefined) {
      if (typeof phoneNumber !== "string" || !E164.test(phoneNumber)) {
        return invalid(c, "phoneNumber must be an E.164 phone number.");
      }
      if (!senders.ownedNumber(account, phoneNumber)) {
        return invalid(c, "phoneNumber must be a number this project owns (see GET /v1/phone-numbers).");
      }
      if (senders.senderByPhone(account, phoneNumber)) {
        return invalid(c, "phoneNumber is already attached to another sender.");
      }
    }
    if (setAsDefault !== undefined && typeof setAsDefault !== "boolean") {
      return invalid(c, "setAsDefault must be a boolean.");
    }
    if (webhookUrl !== undefined && !isWebhookUrl(webhookUrl)) return invalid(c, badUrl);
    const events = checkEvents(body.webhookEvents);
    if (!events.ok) return invalid(c, events.message);
    const version = checkVersion(body.webhookSignatureVersion);
    if (!version.ok) return invalid(c, version.message);
    const row = senders.createSender(account, {
      name,
      phoneNumber: (phoneNumber as string | undefined) ?? "",
      setAsDefault: setAsDefault === true,
      webhookUrl: (webhookUrl as string | undefined) ?? null,
      webhookEvents: events.value ?? DEFAULT_WEBHOOK_EVENTS,
      signatureVersion: version.value ?? "v2",
    });
    return c.json(toSender(row, true), 201);
  });

  app.get("/v1/senders", (c) => {
    const limit = parseLimit(c.req.query("limit"), 50);
    if (limit === null) return invalid(c, `limit must be an integer from 1 to ${MAX_PAGE}.`);
    const after = decodeCursor(c.req.query("cursor"), 0);
    if (after === null) return invalid(c, "cursor is not valid.");
    return c.json(pageOf(senders.listSenders(accountOf(c.var.caller), limit + 1, after), limit, (r) => toSender(r)));
  });

  app.get("/v1/senders/:id", (c) => {
    const row = find(c);
    return row ? c.json(toSender(row)) : notFound(c);
  });

  app.patch("/v1/senders/:id", async (c) => {
    const row = find(c);
    if (!row) return notFound(c);
    const body = await jsonBody(c);
    if (!body) return invalid(c, "Request body must be a JSON object.");
    const fields: Partial<Record<keyof SenderRow, SqlStorageValue>> = {};
    if (body.name !== undefined) {
      if (typeof body.name !== "string" || body.name.trim() === "")
        return invalid(c, "name must be a non-empty string.");
      fields.name = body.name;
    }
    if (body.setAsDefault !== undefined && typeof body.setAsDefault !== "boolean") {
      return invalid(c, "setAsDefault must be a boolean.");
    }
    let createdWebhook = false;
    if (body.webhookUrl !== undefined) {
      if (body.webhookUrl === null) {
        fields.webhook_url = null;
        fields.secret = null;
      } else if (!isWebhookUrl(body.webhookUrl)) {
        return invalid(c, badUrl);
      } else {
        fields.webhook_url = body.webhookUrl;
        if (!row.webhook_url) {
          // A new webhook: a new secret, shown in this answer (the one that created the webhook).
          fields.secret = newWebhookSecret();
          fields.webhook_active = 1;
          createdWebhook = true;
          if (body.webhookEvents === undefined) fields.webhook_events = JSON.stringify(DEFAULT_WEBHOOK_EVENTS);
        }
      }
    }
    const events = checkEvents(body.webhookEvents);
    if (!events.ok) return invalid(c, events.message);
    if (events.value) fields.webhook_events = JSON.stringify(events.value);
    if (body.webhookActive !== undefined) {
      if (typeof body.webhookActive !== "boolean") return invalid(c, "webhookActive must be a boolean.");
      fields.webhook_active = body.webhookActive ? 1 : 0;
    }
    const version = checkVersion(body.webhookSignatureVersion);
    if (!version.ok) return invalid(c, version.message);
    if (version.value) {
      if (row.signature_version === "v1" && version.value === "v2") {
        return invalid(c, 'Moving from "v1" straight to "v2" is not allowed: set "v1+v2" first.');
      }
      fields.signature_version = version.value;
    }
    let updated = senders.updateSender(row.id, fields);
    if (body.setAsDefault === true) {
      senders.makeDefault(updated);
      updated = senders.senderById(row.id)!;
    }
    return c.json(toSender(updated, createdWebhook));
  });

  app.delete("/v1/senders/:id", (c) => {
    const row = find(c);
    if (!row) return notFound(c);
    senders.deleteSender(row);
    return c.body(null, 204);
  });

  app.post("/v1/senders/:id/webhook/secret", (c) => {
    const row = find(c);
    if (!row) return notFound(c);
    if (!row.webhook_url) return invalid(c, "This sender has no webhook.");
    const secret = newWebhookSecret();
    senders.updateSender(row.id, { secret });
    return c.json({ secret });
  });

  return app;
}
