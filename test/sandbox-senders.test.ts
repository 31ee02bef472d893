import { env } from "cloudflare:workers";
import Zavudev from "@zavudev/sdk";
import { beforeEach, describe, expect, it } from "vitest";
import { MAIN_KEY, SANDBOX_URL, sandbox, zavu } from "./helpers/sandbox";

const main = zavu(MAIN_KEY);

async function newSub(body: Partial<Zavudev.SubAccountCreateParams> = {}) {
  const { subAccount } = await main.subAccounts.create({ name: "Client ABC", ...body });
  return { sub: subAccount, client: zavu(subAccount.apiKey!) };
}

async function expectError(p: Promise<unknown>, status: number, code: string) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Zavudev.APIError);
  expect((err as InstanceType<typeof Zavudev.APIError>).status).toBe(status);
  expect((err as { error: { code: string } }).error.code).toBe(code);
}

beforeEach(async () => {
  await sandbox.reset();
});

describe("sandbox: senders through the official SDK", () => {
  it("creates a sender with a webhook: the secret only in the create answer, v2 by default", async () => {
    const { client } = await newSub();
    const sender = await client.senders.create({
      name: "Support",
      webhookUrl: "https://hooks.example.com/zavu",
      webhookEvents: ["message.delivered", "message.inbound"],
    });
    expect(sender).toMatchObject({
      name: "Support",
      phoneNumber: "",
      isDefault: true,
      channels: [],
      webhook: {
        url: "https://hooks.example.com/zavu",
        events: ["message.delivered", "message.inbound"],
        active: true,
        signatureVersion: "v2",
      },
    });
    expect(sender.id).toMatch(/^snd_/);
    expect(sender.webhook?.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(new Date(sender.createdAt!).toISOString()).toBe(sender.createdAt);
    const again = await client.senders.retrieve(sender.id);
    expect(again.webhook).toBeDefined();
    expect(again.webhook?.secret).toBeUndefined();
    expect((await client.senders.list()).items[0]?.webhook?.secret).toBeUndefined();
    expect((await sandbox.sender(sender.id)).webhook?.secret).toBe(sender.webhook?.secret);
  });

  it("has no webhook without a URL; default events when a URL comes without them", async () => {
    const plain = await main.senders.create({ name: "Plain" });
    expect(plain.webhook).toBeUndefined();
    expect(plain.isDefault).toBe(true);
    const hooked = await main.senders.create({ name: "Hooked", webhookUrl: "http://127.0.0.1:8787/relay" });
    expect(hooked.webhook).toMatchObject({ events: ["message.inbound"], signatureVersion: "v2" });
    expect(hooked.isDefault).toBe(false);
    expect((await sandbox.sender(plain.id)).accountId).toBe("main");
  });

  it("validates: name, webhook URL (https, or http on loopback), events, signature version, owned phone number", async () => {
    await expectError(main.senders.create({ name: "" }), 400, "invalid_request");
    for (const url of ["http://example.com/hook", "ftp://x.example/h", "not a url", "http://10.0.0.1/h"]) {
      await expectError(main.senders.create({ name: "x", webhookUrl: url }), 400, "invalid_request");
    }
    for (const url of ["http://localhost:8787/h", "http://[::1]:8787/h", "https://a.example/h"]) {
      await main.senders.create({ name: "ok", webhookUrl: url });
    }
    await expectError(
      main.senders.create({ name: "x", webhookUrl: "https://a.example", webhookEvents: ["message.nope" as never] }),
      400,
      "invalid_request",
    );
    await expectError(
      main.senders.create({ name: "x", webhookUrl: "https://a.example", webhookSignatureVersion: "v3" as never }),
      400,
      "invalid_request",
    );
    await expectError(main.senders.create({ name: "x", phoneNumber: "+15550100001" }), 400, "invalid_request");
    await expectError(main.senders.create({ name: "x", phoneNumber: "12345" }), 400, "invalid_request");
  });

  it("updates: name, events, pause, removing the webhook; v1 cannot go straight to v2", async () => {
    const sender = await main.senders.create({
      name: "Old",
      webhookUrl: "https://a.example/h",
      webhookSignatureVersion: "v1",
    });
    const paused = await main.senders.update(sender.id, {
      name: "New",
      webhookEvents: ["message.sent"],
      webhookActive: false,
    });
    expect(paused).toMatchObject({ name: "New", webhook: { events: ["message.sent"], active: false } });
    expect(paused.webhook?.secret).toBeUndefined();
    await expectError(main.senders.update(sender.id, { webhookSignatureVersion: "v2" }), 400, "invalid_request");
    expect((await main.senders.update(sender.id, { webhookSignatureVersion: "v1+v2" })).webhook?.signatureVersion).toBe(
      "v1+v2",
    );
    expect((await main.senders.update(sender.id, { webhookSignatureVersion: "v2" })).webhook?.signatureVersion).toBe(
      "v2",
    );
    await expectError(main.senders.update(sender.id, { webhookUrl: "http://evil.example" }), 400, "invalid_request");
    const removed = await main.senders.update(sender.id, { webhookUrl: null });
    expect(removed.webhook).toBeUndefined();
    // A webhook added later gets a new secret, shown in the answer that created it.
    const readded = await main.senders.update(sender.id, { webhookUrl: "https://b.example/h" });
    expect(readded.webhook?.secret).toMatch(/^whsec_/);
    expect(readded.webhook?.secret).not.toBe(sender.webhook?.secret);
  });

  it("regenerates the secret: the new one at once, the old one gone", async () => {
    const sender = await main.senders.create({ name: "S", webhookUrl: "https://a.example/h" });
    const { secret } = await main.senders.regenerateWebhookSecret(sender.id);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(secret).not.toBe(sender.webhook?.secret);
    expect((await sandbox.sender(sender.id)).webhook?.secret).toBe(secret);
    const plain = await main.senders.create({ name: "No hook" });
    await expectError(main.senders.regenerateWebhookSecret(plain.id), 400, "invalid_request");
  });

  it("keeps one default: the first, moved by setAsDefault, the oldest promoted when the default is deleted", async () => {
    const a = await main.senders.create({ name: "A" });
    const b = await main.senders.create({ name: "B" });
    const c = await main.senders.create({ name: "C", setAsDefault: true });
    const defaults = async () => (await main.senders.list()).items.filter((s) => s.isDefault).map((s) => s.name);
    expect(await defaults()).toEqual(["C"]);
    await main.senders.update(b.id, { setAsDefault: true });
    expect(await defaults()).toEqual(["B"]);
    await main.senders.delete(b.id);
    expect(await defaults()).toEqual(["A"]);
    await expectError(main.senders.retrieve(b.id), 404, "not_found");
    expect([a.isDefault, b.isDefault, c.isDefault]).toEqual([true, false, true]); // as each was answered
  });

  it("lists with limit and cursor", async () => {
    for (let i = 0; i < 5; i++) await main.senders.create({ name: `S${i}` });
    const first = await main.senders.list({ limit: 2 });
    expect(first.items.map((s) => s.name)).toEqual(["S0", "S1"]);
    expect(first.nextCursor).toBeTruthy();
    const names: string[] = [];
    for await (const s of main.senders.list({ limit: 2 })) names.push(s.name);
    expect(names).toEqual(["S0", "S1", "S2", "S3", "S4"]);
    await expectError(main.senders.list({ cursor: "garbage!" }), 400, "invalid_request");
  });

  it("keeps each account's senders to itself: another account's id is an unknown id", async () => {
    const one = await newSub();
    const two = await newSub({ name: "Client XYZ" });
    const sender = await one.client.senders.create({ name: "Mine", webhookUrl: "https://a.example/h" });
    await expectError(two.client.senders.retrieve(sender.id), 404, "not_found");
    await expectError(two.client.senders.update(sender.id, { name: "stolen" }), 404, "not_found");
    await expectError(two.client.senders.delete(sender.id), 404, "not_found");
    await expectError(two.client.senders.regenerateWebhookSecret(sender.id), 404, "not_found");
    await expectError(main.senders.retrieve(sender.id), 404, "not_found");
    expect((await two.client.senders.list()).items).toEqual([]);
    expect((await sandbox.sender(sender.id)).accountId).toBe(one.sub.id);
    // The sub-account's first sender is its own default, whatever other accounts have.
    expect((await two.client.senders.create({ name: "Theirs" })).isDefault).toBe(true);
  });

  it("deletes with 204", async () => {
    const sender = await main.senders.create({ name: "Gone" });
    const res = await env.SANDBOX.fetch(`${SANDBOX_URL}/v1/senders/${sender.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${MAIN_KEY}` },
    });
    expect(res.status).toBe(204);
    await expectError(main.senders.retrieve(sender.id), 404, "not_found");
  });
});

describe("sandbox: phone numbers through the official SDK", () => {
  it("searches available numbers: +1555010xxxx, not the owned ones", async () => {
    const { items } = await main.phoneNumbers.searchAvailable({ countryCode: "US", limit: 3 });
    expect(items.map((n) => n.phoneNumber)).toEqual(["+15550100000", "+15550100001", "+15550100002"]);
    expect(items[0]).toMatchObject({ capabilities: { sms: true }, pricing: { monthlyPrice: 1 } });
    await main.phoneNumbers.purchase({ phoneNumber: "+15550100001" });
    const after = await main.phoneNumbers.searchAvailable({ countryCode: "US", limit: 2 });
    expect(after.items.map((n) => n.phoneNumber)).toEqual(["+15550100000", "+15550100002"]);
    const contains = await main.phoneNumbers.searchAvailable({ countryCode: "US", contains: "4242" });
    expect(contains.items.map((n) => n.phoneNumber)).toEqual(["+15550104242"]);
    expect((await main.phoneNumbers.searchAvailable({ countryCode: "GB" })).items).toEqual([]);
  });

  it("purchases: charged to the sub-account as a phone_number charge; listed, retrieved, released", async () => {
    await sandbox.setTeam({ balance: 1000 });
    const { sub, client } = await newSub();
    const { phoneNumber } = await client.phoneNumbers.purchase({ phoneNumber: "+15550101234", name: "Line" });
    expect(phoneNumber).toMatchObject({
      phoneNumber: "+15550101234",
      name: "Line",
      status: "active",
      pricing: { monthlyCost: 100 },
    });
    expect(phoneNumber.id).toMatch(/^pn_/);
    expect((await main.subAccounts.retrieve(sub.id)).subAccount.totalSpent).toBe(100);
    expect((await main.balance.retrieve()).balance).toBe(900);
    expect(await sandbox.usage(sub.id)).toEqual([{ account: sub.id, channel: "phone_number", sends: 1, cents: 100 }]);
    expect((await client.phoneNumbers.list()).items.map((n) => n.id)).toEqual([phoneNumber.id]);
    expect((await main.phoneNumbers.list()).items).toEqual([]);
    expect((await client.phoneNumbers.retrieve(phoneNumber.id)).phoneNumber.phoneNumber).toBe("+15550101234");
    await expectError(main.phoneNumbers.retrieve(phoneNumber.id), 404, "not_found");
    // Someone else cannot buy it now.
    await expectError(main.phoneNumbers.purchase({ phoneNumber: "+15550101234" }), 404, "not_found");

    // A sender can use it; released only once no sender does.
    const sender = await client.senders.create({ name: "SMS", phoneNumber: "+15550101234" });
    expect(sender.phoneNumber).toBe("+15550101234");
    expect((await client.phoneNumbers.retrieve(phoneNumber.id)).phoneNumber.senderId).toBe(sender.id);
    await expectError(client.senders.create({ name: "Dup", phoneNumber: "+15550101234" }), 400, "invalid_request");
    await expectError(client.phoneNumbers.release(phoneNumber.id), 400, "invalid_request");
    await client.senders.delete(sender.id);
    await client.phoneNumbers.release(phoneNumber.id);
    expect((await client.phoneNumbers.list()).items).toEqual([]);
    await expectError(client.phoneNumbers.retrieve(phoneNumber.id), 404, "not_found");
    await main.phoneNumbers.purchase({ phoneNumber: "+15550101234" }); // for sale again
  });

  it("refuses numbers outside the pool, malformed ones, and purchases the limits cannot cover", async () => {
    await expectError(main.phoneNumbers.purchase({ phoneNumber: "+15551234567" }), 404, "not_found");
    await expectError(main.phoneNumbers.purchase({ phoneNumber: "+155501012345" }), 404, "not_found");
    await expectError(main.phoneNumbers.purchase({ phoneNumber: "5550101234" }), 400, "invalid_request");
    const { sub, client } = await newSub({ creditLimit: 150 });
    await client.phoneNumbers.purchase({ phoneNumber: "+15550100001" });
    await expectError(client.phoneNumbers.purchase({ phoneNumber: "+15550100002" }), 402, "credit_limit_reached");
    expect((await main.subAccounts.retrieve(sub.id)).subAccount.totalSpent).toBe(100);
    await sandbox.setTeam({ balance: 50 });
    await expectError(main.phoneNumbers.purchase({ phoneNumber: "+15550100003" }), 402, "insufficient_balance");
    await sandbox.setTeam({ enforceLimits: false });
    await client.phoneNumbers.purchase({ phoneNumber: "+15550100002" });
    expect((await main.subAccounts.retrieve(sub.id)).subAccount.totalSpent).toBe(200);
  });
});
