import Zavudev from "@zavudev/sdk";
import { beforeEach, describe, expect, it } from "vitest";
import { MAIN_KEY, sandbox, zavu } from "./helpers/sandbox";

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

describe("sandbox: sub-accounts through the official SDK", () => {
  it("creates a sub-account and shows its key only once", async () => {
    const { subAccount } = await main.subAccounts.create({
      name: "Client ABC",
      externalId: "client_123",
      creditLimit: 100000,
      metadata: { plan: "enterprise" },
    });
    expect(subAccount).toMatchObject({
      name: "Client ABC",
      externalId: "client_123",
      status: "active",
      totalSpent: 0,
      creditLimit: 100000,
      metadata: { plan: "enterprise" },
    });
    expect(subAccount.apiKey).toMatch(/^zv_live_sub_[a-z0-9]{32}$/);
    expect(new Date(subAccount.createdAt).toISOString()).toBe(subAccount.createdAt);
    const { subAccount: again } = await main.subAccounts.retrieve(subAccount.id);
    expect(again.apiKey).toBeUndefined();
    expect(again.id).toBe(subAccount.id);
  });

  it("validates create: name required, at most 200 characters, creditLimit in cents", async () => {
    await expectError(main.subAccounts.create({ name: "" }), 400, "invalid_request");
    await expectError(main.subAccounts.create({ name: "x".repeat(201) }), 400, "invalid_request");
    await expectError(main.subAccounts.create({ name: "ok", creditLimit: -1 }), 400, "invalid_request");
    await expectError(main.subAccounts.create({ name: "ok", creditLimit: 1.5 }), 400, "invalid_request");
    const { subAccount } = await main.subAccounts.create({ name: "x".repeat(200), creditLimit: 0 });
    expect(subAccount.creditLimit).toBeNull(); // 0 = no cap
  });

  it("refuses a second main account with invalid_request", async () => {
    await expectError(
      main.subAccounts.create({ name: "Another main" }, {
        body: { name: "Another main", accountType: "main" },
      } as never),
      400,
      "invalid_request",
    );
  });

  it("updates name, externalId, creditLimit (null and 0 remove it), metadata and status", async () => {
    const { sub } = await newSub({ creditLimit: 500 });
    const { subAccount } = await main.subAccounts.update(sub.id, {
      name: "Renamed",
      externalId: "ext-9",
      creditLimit: 200000,
      metadata: { plan: "enterprise-plus" },
      status: "inactive",
    });
    expect(subAccount).toMatchObject({
      name: "Renamed",
      externalId: "ext-9",
      creditLimit: 200000,
      metadata: { plan: "enterprise-plus" },
      status: "inactive",
    });
    expect((await main.subAccounts.update(sub.id, { creditLimit: null })).subAccount.creditLimit).toBeNull();
    await main.subAccounts.update(sub.id, { creditLimit: 700 });
    expect((await main.subAccounts.update(sub.id, { creditLimit: 0 })).subAccount.creditLimit).toBeNull();
    await expectError(main.subAccounts.update(sub.id, { status: "paused" as never }), 400, "invalid_request");
    await expectError(main.subAccounts.update("sa_missing", { name: "x" }), 404, "not_found");
  });

  it("lists with limit and cursor until nextCursor is empty", async () => {
    for (let i = 0; i < 5; i++) await main.subAccounts.create({ name: `Client ${i}` });
    const first = await main.subAccounts.list({ limit: 2 });
    expect(first.items.map((s) => s.name)).toEqual(["Client 0", "Client 1"]);
    expect(first.nextCursor).toBeTruthy();
    const names: string[] = [];
    for await (const sub of main.subAccounts.list({ limit: 2 })) names.push(sub.name);
    expect(names).toEqual(["Client 0", "Client 1", "Client 2", "Client 3", "Client 4"]);
    await expectError(main.subAccounts.list({ limit: 0 }), 400, "invalid_request");
    await expectError(main.subAccounts.list({ cursor: "garbage!" }), 400, "invalid_request");
  });

  it("deactivates: revokes every key and reports how many", async () => {
    const { sub, client } = await newSub();
    await main.subAccounts.apiKeys.create(sub.id, { name: "Second" });
    const result = await main.subAccounts.deactivate(sub.id);
    expect(result.keysRevoked).toBe(2);
    expect(result.message).toContain("deactivated");
    await expectError(client.balance.retrieve(), 401, "unauthorized");
    expect((await main.subAccounts.retrieve(sub.id)).subAccount.status).toBe("inactive");
  });

  it("manages API keys: list shows prefixes only, create shows the key once, revoked keys fail at once", async () => {
    const { sub, client } = await newSub();
    const { apiKey } = await main.subAccounts.apiKeys.create(sub.id, { name: "Production Key", environment: "live" });
    expect(apiKey.key).toMatch(/^zv_live_sub_/);
    const { items } = await main.subAccounts.apiKeys.list(sub.id);
    expect(items.map((k) => k.name)).toEqual(["Default", "Production Key"]);
    for (const item of items) {
      expect(item.key).toBeUndefined();
      expect(item.keyPrefix).toHaveLength(16);
      expect(typeof item.createdAt).toBe("number");
    }
    const second = zavu(apiKey.key);
    expect((await second.balance.retrieve()).isSubAccount).toBe(true);
    await main.subAccounts.apiKeys.revoke(apiKey.id, { id: sub.id });
    await expectError(second.balance.retrieve(), 401, "unauthorized");
    expect((await client.balance.retrieve()).isSubAccount).toBe(true); // the other key still works
    const listed = await main.subAccounts.apiKeys.list(sub.id);
    expect(listed.items.find((k) => k.id === apiKey.id)?.revokedAt).toEqual(expect.any(Number));
    await expectError(main.subAccounts.apiKeys.revoke("key_missing", { id: sub.id }), 404, "not_found");
  });

  it("reports balances for the main account and, per sub-account, spending and limit", async () => {
    await sandbox.setTeam({ balance: 150000 });
    const { sub, client } = await newSub({ creditLimit: 100000 });
    expect(await main.balance.retrieve()).toEqual({ balance: 150000, currency: "usd" });
    const own = await client.balance.retrieve();
    expect(own).toEqual({ balance: 150000, currency: "usd", creditLimit: 100000, totalSpent: 0, isSubAccount: true });
    expect(await main.subAccounts.getBalance(sub.id)).toEqual(own);
  });
});

describe("sandbox: keys and authorization", () => {
  it("answers 401 to unknown keys and 403 to sub-account keys on every /v1/sub-accounts path", async () => {
    await expectError(zavu("zv_live_sub_unknown").balance.retrieve(), 401, "unauthorized");
    const { sub, client } = await newSub();
    await expectError(client.subAccounts.list(), 403, "forbidden");
    await expectError(client.subAccounts.retrieve(sub.id), 403, "forbidden");
    await expectError(client.subAccounts.create({ name: "nope" }), 403, "forbidden");
    await expectError(client.subAccounts.apiKeys.list(sub.id), 403, "forbidden");
  });
});

describe("sandbox: messages", () => {
  it("sends, charges the sub-account and the team, and returns USD costs", async () => {
    await sandbox.setTeam({ balance: 1000, prices: { sms: 3 } });
    const { sub, client } = await newSub();
    const { message } = await client.messages.send({ to: "+15551234567", text: "Hello", "Zavu-Sender": "snd_1" });
    expect(message).toMatchObject({
      to: "+15551234567",
      channel: "sms",
      status: "queued",
      cost: 0.03,
      costTotal: 0.03,
      text: "Hello",
    });
    expect((await main.subAccounts.retrieve(sub.id)).subAccount.totalSpent).toBe(3);
    expect((await main.balance.retrieve()).balance).toBe(997);
    const send = (await sandbox.requests()).find((r) => r.method === "POST" && r.path === "/v1/messages");
    expect(send).toMatchObject({ status: 202, subAccountId: sub.id });
    expect(send?.headers["zavu-sender"]).toBe("snd_1");
  });

  it("validates the destination", async () => {
    const { client } = await newSub();
    await expectError(client.messages.send({ to: "" }), 400, "invalid_request");
    await expectError(client.messages.send({ to: "not-a-phone", channel: "sms" }), 400, "invalid_request");
    await expectError(client.messages.send({ to: "+15551234567", channel: "pigeon" as never }), 400, "invalid_request");
    const { message } = await client.messages.send({ to: "ana@example.com", subject: "Hi", text: "Hi" });
    expect(message.channel).toBe("email");
  });

  it("lists with a cursor, retrieves, and keeps each account's messages to itself", async () => {
    const { client } = await newSub();
    const other = (await newSub()).client;
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push((await client.messages.send({ to: "+15551234567", text: `m${i}` })).message);
    const page = await client.messages.list({ limit: 2 });
    expect(page.items.map((m) => m.text)).toEqual(["m2", "m1"]);
    const all = [];
    for await (const m of client.messages.list({ limit: 2 })) all.push(m.id);
    expect(all).toEqual(sent.map((m) => m.id).reverse());
    expect((await client.messages.retrieve(sent[0]!.id)).message.id).toBe(sent[0]!.id);
    await expectError(other.messages.retrieve(sent[0]!.id), 404, "not_found");
    expect((await other.messages.list()).items).toEqual([]);
    expect((await client.messages.listAttachments(sent[0]!.id)).items).toEqual([]);
    expect((await client.messages.react(sent[0]!.id, { emoji: "👍" })).message.messageType).toBe("reaction");
    expect(await client.messages.showTyping(sent[0]!.id)).toEqual({ success: true });
  });

  it("replays a send with the same idempotency key without charging twice", async () => {
    await sandbox.setTeam({ prices: { sms: 2 } });
    const { sub, client } = await newSub();
    const a = await client.messages.send({ to: "+15551234567", text: "once", idempotencyKey: "k1" });
    const b = await client.messages.send({ to: "+15551234567", text: "once", idempotencyKey: "k1" });
    expect(b.message.id).toBe(a.message.id);
    expect((await main.subAccounts.retrieve(sub.id)).subAccount.totalSpent).toBe(2);
  });

  it("refuses sends: inactive 403 sub_account_inactive, limit 402 credit_limit_reached, team 402 insufficient_balance", async () => {
    await sandbox.setTeam({ prices: { sms: 1 } });
    const { sub, client } = await newSub({ creditLimit: 2 });
    await client.messages.send({ to: "+15551234567" });
    await client.messages.send({ to: "+15551234567" });
    await expectError(client.messages.send({ to: "+15551234567" }), 402, "credit_limit_reached");
    await main.subAccounts.update(sub.id, { creditLimit: null, status: "inactive" });
    await expectError(client.messages.send({ to: "+15551234567" }), 403, "sub_account_inactive");
    expect((await client.balance.retrieve()).totalSpent).toBe(2); // balance stays readable
    await main.subAccounts.update(sub.id, { status: "active" });
    await sandbox.setTeam({ balance: 0 });
    await expectError(client.messages.send({ to: "+15551234567" }), 402, "insufficient_balance");
  });
});

describe("sandbox: control API", () => {
  it("can stop enforcing limits (a lagging Zavu): sends over the credit limit and the team balance go through", async () => {
    await sandbox.setTeam({ prices: { sms: 3 }, balance: 4 });
    const { sub, client } = await newSub({ creditLimit: 2 });
    await client.messages.send({ to: "+15551234567" });
    await expectError(client.messages.send({ to: "+15551234567" }), 402, "credit_limit_reached");
    expect(await sandbox.setTeam({ enforceLimits: false })).toMatchObject({ enforceLimits: false, costAtAccept: true });
    await client.messages.send({ to: "+15551234567" });
    await client.messages.send({ to: "+15551234567" });
    expect((await main.subAccounts.retrieve(sub.id)).subAccount.totalSpent).toBe(9);
    expect((await sandbox.team()).balance).toBe(-5);
  });

  it("can answer sends with costTotal null while still charging (costAtAccept: false)", async () => {
    await sandbox.setTeam({ prices: { sms: 2 }, costAtAccept: false });
    const { sub, client } = await newSub();
    const { message } = await client.messages.send({ to: "+15551234567" });
    expect([message.cost, message.costTotal]).toEqual([null, null]);
    expect((await main.subAccounts.retrieve(sub.id)).subAccount.totalSpent).toBe(2);
    expect((await sandbox.team()).costAtAccept).toBe(false);
  });

  it("refuses a non-boolean switch", async () => {
    await expect(sandbox.setTeam({ enforceLimits: "no" as never })).rejects.toThrow(/400/);
  });

  it("logs each request with the sub-account and key it was attributed to", async () => {
    const { sub, client } = await newSub();
    await sandbox.clearRequests();
    await client.balance.retrieve();
    await main.balance.retrieve();
    const [mainCall, subCall] = await sandbox.requests();
    expect(subCall).toMatchObject({ method: "GET", path: "/v1/balance", status: 200, subAccountId: sub.id });
    expect(subCall!.keyId).toMatch(/^key_/);
    expect(mainCall).toMatchObject({ path: "/v1/balance", subAccountId: null, keyId: "main" });
  });

  it("injects errors for the next N calls, then recovers", async () => {
    await sandbox.fault({ path: "/v1/balance", status: 503, count: 2 });
    await expectError(main.balance.retrieve(), 503, "internal_error");
    await expectError(main.balance.retrieve(), 503, "internal_error");
    expect((await main.balance.retrieve()).currency).toBe("usd");
  });

  it("can lose the response of a call that took effect", async () => {
    await sandbox.fault({ method: "POST", path: "/v1/sub-accounts", status: 502, count: 1, afterEffect: true });
    await expectError(main.subAccounts.create({ name: "Lost reply", externalId: "ext-lost" }), 502, "internal_error");
    const { items } = await main.subAccounts.list();
    expect(items.map((s) => s.externalId)).toEqual(["ext-lost"]);
  });

  it("adds latency and fails a share of calls at a rate", async () => {
    await sandbox.fault({ path: "/v1/balance", latencyMs: 150, count: 1 });
    const started = Date.now();
    await main.balance.retrieve();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await sandbox.fault({ path: "/v1/**", status: 500, rate: 1 });
    await expectError(main.balance.retrieve(), 500, "internal_error");
    await sandbox.clearFaults();
    await main.balance.retrieve();
  });
});
