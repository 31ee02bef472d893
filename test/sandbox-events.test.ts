import type Zavudev from "@zavudev/sdk";
import { beforeEach, describe, expect, it } from "vitest";
import { eventually, hookUrl, MAIN_KEY, sandbox, zavu } from "./helpers/sandbox";

const main = zavu(MAIN_KEY);
const LIFECYCLE: Zavudev.Senders.WebhookEvent[] = [
  "message.queued",
  "message.sent",
  "message.delivered",
  "message.failed",
];

async function newSub() {
  const { subAccount } = await main.subAccounts.create({ name: "Client ABC" });
  return { sub: subAccount, client: zavu(subAccount.apiKey!) };
}

async function hmacHex(secret: string, text: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, enc.encode(text));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Checks X-Zavu-Signature our own way; returns which schemes it carried. */
async function verify(header: string, secret: string, body: string): Promise<string[]> {
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=") as [string, string]));
  const t = Number(parts.t);
  expect(Math.abs(Date.now() / 1000 - t)).toBeLessThan(60);
  const schemes: string[] = [];
  if (parts.v1 !== undefined) {
    expect(parts.v1).toBe(await hmacHex(secret, body));
    schemes.push("v1");
  }
  if (parts.v2 !== undefined) {
    expect(parts.v2).toBe(await hmacHex(secret, `${t}.${body}`));
    schemes.push("v2");
  }
  return schemes;
}

/** The hooks `name` received, once there are `count` of them. */
const received = (name: string, count: number, timeoutMs?: number) =>
  eventually(async () => {
    const hooks = await sandbox.hooks(name);
    return hooks.length >= count ? hooks : undefined;
  }, timeoutMs);

beforeEach(async () => {
  await sandbox.reset();
  await sandbox.setTeam({ deliveryDelayMs: 20 });
});

describe("sandbox: message lifecycle events", () => {
  for (const version of ["v1", "v1+v2", "v2"] as const) {
    it(`posts queued, sent, delivered in order, signed ${version}`, async () => {
      await sandbox.setTeam({ prices: { sms: 3 } });
      const { sub, client } = await newSub();
      const name = `lc-${version.replace("+", "-")}`;
      const sender = await client.senders.create({
        name: "Hooked",
        webhookUrl: hookUrl(name),
        webhookEvents: LIFECYCLE,
        webhookSignatureVersion: version,
      });
      const secret = sender.webhook!.secret!;
      const { message } = await client.messages.send({ to: "+15551234567", text: "Hi" });
      const hooks = await received(name, 3);
      const events = hooks.map((h) => JSON.parse(h.body));
      expect(events.map((e) => e.type)).toEqual(["message.queued", "message.sent", "message.delivered"]);
      for (const [i, hook] of hooks.entries()) {
        expect(hook.headers["content-type"]).toBe("application/json");
        expect(hook.headers["user-agent"]).toBe("Zavu-Webhooks/1.0");
        const schemes = await verify(hook.headers["x-zavu-signature"]!, secret, hook.body);
        expect(schemes.join("+")).toBe(version);
        expect(events[i]).toMatchObject({ senderId: sender.id, projectId: sub.id });
        expect(events[i].id).toMatch(/^evt_/);
        expect(events[i].timestamp).toEqual(expect.any(Number));
      }
      expect(events[2].data).toEqual({
        messageId: message.id,
        status: "delivered",
        channel: "sms",
        to: "+15551234567",
        from: null,
        createdAt: message.createdAt,
        costTotal: 0.03,
      });
      expect(events.map((e) => e.data.status)).toEqual(["queued", "sent", "delivered"]);
      expect((await client.messages.retrieve(message.id)).message.status).toBe("delivered");
    });
  }

  it("fails recipients ending in 0000: queued then failed, nothing charged", async () => {
    await sandbox.setTeam({ prices: { sms: 3 } });
    const { sub, client } = await newSub();
    await client.senders.create({ name: "Hooked", webhookUrl: hookUrl("fail"), webhookEvents: LIFECYCLE });
    const { message } = await client.messages.send({ to: "+15559990000", text: "Hi" });
    expect(message.costTotal).toBe(0); // costAtAccept is on
    const hooks = await received("fail", 2);
    await new Promise((r) => setTimeout(r, 100)); // nothing more comes
    const events = (await sandbox.hooks("fail")).map((h) => JSON.parse(h.body));
    expect(events.map((e) => e.type)).toEqual(["message.queued", "message.failed"]);
    expect(hooks).toHaveLength(2);
    expect(events[1].data).toMatchObject({
      status: "failed",
      costTotal: 0,
      errorCode: "undeliverable",
      errorMessage: "The recipient cannot receive messages.",
    });
    expect((await main.subAccounts.retrieve(sub.id)).subAccount.totalSpent).toBe(0);
    expect(await sandbox.usage(sub.id)).toEqual([]);
    expect((await client.messages.retrieve(message.id)).message).toMatchObject({
      status: "failed",
      errorCode: "undeliverable",
    });
    await sandbox.setTeam({ costAtAccept: false });
    expect((await client.messages.send({ to: "+15559990000" })).message.costTotal).toBeNull();
  });

  it("picks the sender from Zavu-Sender, else the default; only subscribed events; none when paused", async () => {
    const { client } = await newSub();
    const byDefault = await client.senders.create({
      name: "Default",
      webhookUrl: hookUrl("default"),
      webhookEvents: ["message.delivered"],
    });
    const named = await client.senders.create({
      name: "Named",
      webhookUrl: hookUrl("named"),
      webhookEvents: ["message.sent"],
    });
    expect(byDefault.isDefault).toBe(true);
    await client.messages.send({ to: "+15551234567" });
    await client.messages.send({ to: "+15551234568", "Zavu-Sender": named.id });
    const [d] = await received("default", 1);
    const [n] = await received("named", 1);
    expect(JSON.parse(d!.body)).toMatchObject({ type: "message.delivered", data: { to: "+15551234567" } });
    expect(JSON.parse(n!.body)).toMatchObject({ type: "message.sent", data: { to: "+15551234568" } });

    await client.senders.update(byDefault.id, { webhookActive: false });
    const { message } = await client.messages.send({ to: "+15551234569" });
    await eventually(async () =>
      (await client.messages.retrieve(message.id)).message.status === "delivered" ? true : undefined,
    );
    expect(await sandbox.hooks("default")).toHaveLength(1);
    expect(await sandbox.hooks("named")).toHaveLength(1);
  });

  it("reports the sender's phone number as from", async () => {
    const { client } = await newSub();
    await client.phoneNumbers.purchase({ phoneNumber: "+15550100042" });
    await client.senders.create({
      name: "SMS",
      phoneNumber: "+15550100042",
      webhookUrl: hookUrl("from"),
      webhookEvents: ["message.queued"],
    });
    await client.messages.send({ to: "+15551234567" });
    const [hook] = await received("from", 1);
    expect(JSON.parse(hook!.body).data.from).toBe("+15550100042");
  });

  it("retries a failing receiver: 3 attempts, one event id, logged in the deliveries", async () => {
    await sandbox.setTeam({ webhookRetryDelaysMs: [30, 60] });
    const { client } = await newSub();
    const sender = await client.senders.create({
      name: "Flaky",
      webhookUrl: hookUrl("flaky"),
      webhookEvents: ["message.queued"],
    });
    await sandbox.fault({ path: "/__sandbox/hooks/flaky", status: 500, count: 2 });
    await client.messages.send({ to: "+15551234567" });
    const hooks = await received("flaky", 3);
    expect(hooks.map((h) => h.status)).toEqual([500, 500, 200]);
    const ids = hooks.map((h) => JSON.parse(h.body).id);
    expect(new Set(ids).size).toBe(1);
    expect(new Set(hooks.map((h) => h.body)).size).toBe(1); // the same body every time
    const [delivery] = await eventually(async () => {
      const items = await sandbox.deliveries(sender.id);
      return items[0]?.attempts.length === 3 ? items : undefined;
    });
    expect(delivery).toMatchObject({ url: hookUrl("flaky"), eventId: ids[0], type: "message.queued", pending: false });
    expect(delivery!.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    const at = delivery!.attempts.map((a) => Date.parse(a.at));
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(25);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(55);
    expect(delivery!.headers["x-zavu-signature"]).toMatch(/^t=\d+,v2=[0-9a-f]{64}$/);
    expect(delivery!.body).toBe(hooks[2]!.body);
  });

  it("gives up after 3 attempts; a connection error is an attempt with status null", async () => {
    await sandbox.setTeam({ webhookRetryDelaysMs: [10, 10] });
    const { client } = await newSub();
    const sender = await client.senders.create({
      name: "Down",
      webhookUrl: "https://down.sandbox/hook",
      webhookEvents: ["message.queued"],
    });
    const failing = await client.senders.create({
      name: "500",
      webhookUrl: hookUrl("always", "?status=503"),
      webhookEvents: ["message.queued"],
    });
    await client.messages.send({ to: "+15551234567", "Zavu-Sender": sender.id });
    await client.messages.send({ to: "+15551234567", "Zavu-Sender": failing.id });
    for (const [id, status] of [
      [sender.id, null],
      [failing.id, 503],
    ] as const) {
      const [delivery] = await eventually(async () => {
        const items = await sandbox.deliveries(id);
        return items[0] && !items[0].pending ? items : undefined;
      });
      expect(delivery!.attempts.map((a) => a.status)).toEqual([status, status, status]);
    }
    expect(await sandbox.hooks("always")).toHaveLength(3);
  });

  it("retries on Zavu's schedule by default: the 2nd attempt 1 s after the 1st", async () => {
    const { client } = await newSub();
    const sender = await client.senders.create({
      name: "Once",
      webhookUrl: hookUrl("once"),
      webhookEvents: ["message.queued"],
    });
    await sandbox.fault({ path: "/__sandbox/hooks/once", status: 502, count: 1 });
    await client.messages.send({ to: "+15551234567" });
    const [delivery] = await eventually(async () => {
      const items = await sandbox.deliveries(sender.id);
      return items[0]?.attempts.length === 2 ? items : undefined;
    }, 5_000);
    const [first, second] = delivery!.attempts.map((a) => Date.parse(a.at));
    expect(second! - first!).toBeGreaterThanOrEqual(990);
    expect(second! - first!).toBeLessThan(2_500);
    expect(delivery!.attempts.map((a) => a.status)).toEqual([502, 200]);
  });

  it("signs retries with the current secret after a regenerate", async () => {
    await sandbox.setTeam({ webhookRetryDelaysMs: [150, 150] });
    const { client } = await newSub();
    const sender = await client.senders.create({
      name: "Rotating",
      webhookUrl: hookUrl("rotate"),
      webhookEvents: ["message.queued"],
    });
    await sandbox.fault({ path: "/__sandbox/hooks/rotate", status: 500, count: 1 });
    await client.messages.send({ to: "+15551234567" });
    await received("rotate", 1);
    const { secret } = await client.senders.regenerateWebhookSecret(sender.id);
    const hooks = await received("rotate", 2);
    expect(await verify(hooks[1]!.headers["x-zavu-signature"]!, secret, hooks[1]!.body)).toEqual(["v2"]);
  });

  it("keeps the deliveries log newest first, and reset clears it", async () => {
    const { client } = await newSub();
    await client.senders.create({ name: "Log", webhookUrl: hookUrl("log"), webhookEvents: LIFECYCLE });
    await client.messages.send({ to: "+15551234567" });
    await received("log", 3);
    const items = await eventually(async () => {
      const all = await sandbox.deliveries();
      return all.length === 3 && all.every((d) => !d.pending) ? all : undefined;
    });
    expect(items.map((d) => d.type)).toEqual(["message.delivered", "message.sent", "message.queued"]);
    expect(items.every((d) => d.attempts.length === 1 && d.attempts[0]!.status === 200)).toBe(true);
    await sandbox.reset();
    expect(await sandbox.deliveries()).toEqual([]);
  });
});

describe("sandbox: inbound messages", () => {
  it("posts conversation.new only for a contact's first message, then message.inbound", async () => {
    const { sub, client } = await newSub();
    await client.phoneNumbers.purchase({ phoneNumber: "+15550100007" });
    const sender = await client.senders.create({
      name: "Inbox",
      phoneNumber: "+15550100007",
      webhookUrl: hookUrl("inbox"),
      webhookEvents: ["message.inbound", "conversation.new"],
      webhookSignatureVersion: "v1+v2",
    });
    const first = await sandbox.inbound({ senderId: sender.id, from: "+15557654321", text: "Hello" });
    expect(first.events).toHaveLength(2);
    const hooks = await received("inbox", 2);
    const [conv, msg] = hooks.map((h) => JSON.parse(h.body));
    expect(conv).toMatchObject({
      id: first.events[0],
      type: "conversation.new",
      senderId: sender.id,
      projectId: sub.id,
      data: {
        phoneNumber: "+15557654321",
        channel: "sms",
        firstMessageId: first.messageId,
        firstMessageText: "Hello",
        profileName: null,
      },
    });
    expect(msg).toMatchObject({
      id: first.events[1],
      type: "message.inbound",
      data: {
        messageId: first.messageId,
        conversationId: conv.data.conversationId,
        from: "+15557654321",
        to: "+15550100007",
        channel: "sms",
        messageType: "text",
        text: "Hello",
        providerTimestamp: null,
      },
    });
    for (const hook of hooks) {
      expect(await verify(hook.headers["x-zavu-signature"]!, sender.webhook!.secret!, hook.body)).toEqual(["v1", "v2"]);
    }
    expect((await client.messages.retrieve(first.messageId)).message).toMatchObject({
      direction: "inbound",
      text: "Hello",
    });

    const second = await sandbox.inbound({ senderId: sender.id, from: "+15557654321", text: "Again" });
    expect(second.events).toHaveLength(1);
    const all = await received("inbox", 3);
    expect(JSON.parse(all[2]!.body)).toMatchObject({
      type: "message.inbound",
      data: { text: "Again", conversationId: conv.data.conversationId },
    });
    // Another contact is a new conversation.
    expect((await sandbox.inbound({ senderId: sender.id, from: "+15557650000", text: "Hi" })).events).toHaveLength(2);
  });

  it("posts only subscribed events, none without a webhook; unknown sender 404", async () => {
    const plain = await main.senders.create({ name: "No hook" });
    expect((await sandbox.inbound({ senderId: plain.id, from: "+15557654321", text: "x" })).events).toEqual([]);
    const onlyInbound = await main.senders.create({ name: "Inbound", webhookUrl: hookUrl("only") });
    const { events } = await sandbox.inbound({ senderId: onlyInbound.id, from: "+15557654321", text: "x" });
    expect(events).toHaveLength(1);
    const [hook] = await received("only", 1);
    expect(JSON.parse(hook!.body)).toMatchObject({ type: "message.inbound", projectId: "main", data: { to: null } });
    await expect(sandbox.inbound({ senderId: "snd_missing", from: "+15557654321", text: "x" })).rejects.toThrow(/404/);
  });
});
