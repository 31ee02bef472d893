import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { RELAY_ID } from "../../src/lib/relay-address";
import { openKey } from "../../src/storage/key-vault";
import { customerSecretOwner, upstreamSecretOwner } from "../../src/storage/senders-repo";
import { expectApiError, GATEWAY_URL, gatewayFetch } from "../helpers/gateway";
import { sandbox, zavu } from "../helpers/sandbox";
import { zavuEvent, zavuSignature } from "../helpers/senders";
import { registerSecret } from "../hygiene/ledger";
import { senderRow, senderTenant, tenantKey, upstreamSender } from "./helpers";

const SECRET = /^whsec_[A-Za-z0-9_-]{43}$/;
const HOOK = "https://hooks.customer.example/zavu";
const KEK = () => env.KEY_ENCRYPTION_KEY;

let a: Awaited<ReturnType<typeof senderTenant>>;
let b: Awaited<ReturnType<typeof senderTenant>>;

beforeAll(async () => {
  await sandbox.reset();
  a = await senderTenant("a");
  b = await senderTenant("b");
});

/** The relay id in a URL the gateway registered with Zavu. */
function relayIdOf(url: string): string {
  const prefix = `${GATEWAY_URL}/relay/zavu/`;
  expect(url.startsWith(prefix), url).toBe(true);
  const id = url.slice(prefix.length);
  expect(id).toMatch(RELAY_ID);
  return id;
}

/** No relay URL and no secret anywhere in what a read answered. */
function expectClean(answer: unknown) {
  const text = JSON.stringify(answer);
  expect(text).not.toContain("/relay/zavu/");
  expect(text).not.toContain("whsec_");
  expect(text).not.toContain('"secret"');
}

describe("senders: create", () => {
  it("creates the sender upstream pointed at the relay, and shows the customer their own webhook and secret once", async () => {
    const zc = await a.client();
    const sender = await zc.senders.create({
      name: "Support",
      webhookUrl: HOOK,
      webhookEvents: ["message.inbound"],
      webhookSignatureVersion: "v1+v2",
    });
    expect(sender.name).toBe("Support");
    expect(sender.webhook).toEqual({
      url: HOOK,
      events: ["message.inbound"],
      active: true,
      signatureVersion: "v1+v2",
      secret: expect.stringMatching(SECRET),
    });
    const secret = sender.webhook!.secret!;

    const up = await upstreamSender(sender.id);
    expect(up.accountId).toBe(a.subAccountId);
    const relayId = relayIdOf(up.webhook!.url);
    expect(up.webhook!.events.sort()).toEqual(["message.delivered", "message.failed", "message.inbound"]);
    expect(up.webhook!.signatureVersion).toBe("v2");
    expect(up.webhook!.active).toBe(true);
    expect(up.webhook!.secret).not.toBe(secret);

    const row = (await senderRow(sender.id))!;
    expect(row).toMatchObject({
      relay_id: relayId,
      tenant_id: a.id,
      webhook_url: HOOK,
      webhook_active: 1,
      signature_version: "v1+v2",
      deleted_at: null,
    });
    expect(JSON.parse(row.webhook_events)).toEqual(["message.inbound"]);
    // Sealed: never the secret itself, and each opens only under its own owner string.
    expect(row.secret_ciphertext).not.toContain(secret);
    expect(row.upstream_secret_ciphertext).not.toContain(up.webhook!.secret);
    expect(await openKey(KEK(), customerSecretOwner(relayId), row.secret_ciphertext!)).toBe(secret);
    expect(await openKey(KEK(), upstreamSecretOwner(relayId), row.upstream_secret_ciphertext!)).toBe(
      up.webhook!.secret,
    );
    await expect(openKey(KEK(), upstreamSecretOwner(relayId), row.secret_ciphertext!)).rejects.toThrow();
    await expect(openKey(KEK(), customerSecretOwner(relayId), row.upstream_secret_ciphertext!)).rejects.toThrow();
    await expect(openKey(KEK(), a.id, row.secret_ciphertext!)).rejects.toThrow();
  });

  it("without a webhookUrl: no webhook in the answer, but the relay is registered for the delivery outcomes", async () => {
    const zc = await a.client();
    const sender = await zc.senders.create({ name: "No hook" });
    expect(sender).not.toHaveProperty("webhook");
    const up = await upstreamSender(sender.id);
    const relayId = relayIdOf(up.webhook!.url);
    expect(up.webhook!.events.sort()).toEqual(["message.delivered", "message.failed"]);
    const row = (await senderRow(sender.id))!;
    expect(row.webhook_url).toBeNull();
    expect(JSON.parse(row.webhook_events)).toEqual([]);
    // The customer's secret exists already; regenerating is how they see one.
    const first = await openKey(KEK(), customerSecretOwner(relayId), row.secret_ciphertext!);
    expect(first).toMatch(SECRET);
    const { secret } = await zc.senders.regenerateWebhookSecret(sender.id);
    expect(secret).toMatch(SECRET);
    expect(secret).not.toBe(first);
    expect(await zc.senders.retrieve(sender.id)).not.toHaveProperty("webhook");
  });

  it("defaults the customer's events and version when only a URL is given", async () => {
    const sender = await (await a.client()).senders.create({ name: "Defaults", webhookUrl: HOOK });
    await upstreamSender(sender.id);
    expect(sender.webhook).toMatchObject({
      events: ["message.inbound", "message.delivered", "message.failed"],
      signatureVersion: "v2",
    });
  });

  it("refuses URLs outside the policy, bad events and bad JSON, without a row and without reaching Zavu", async () => {
    const zc = await a.client();
    const before = (await env.DB.prepare("SELECT count(*) AS n FROM tenant_senders").first<{ n: number }>())!.n;
    await sandbox.clearRequests();
    for (const url of [
      "http://hooks.customer.example/zavu",
      "https://user:pw@hooks.customer.example/zavu",
      "https://10.0.0.1/zavu",
      "https://192.168.1.20/zavu",
      "https://127.0.0.1/zavu",
      "https://localhost/zavu",
      "https://[::1]/zavu",
      "ftp://hooks.customer.example/zavu",
      `${GATEWAY_URL}/relay/zavu/${"a".repeat(32)}`,
    ]) {
      await expectApiError(zc.senders.create({ name: "x", webhookUrl: url }), 400, "invalid_webhook_url");
    }
    await expectApiError(
      zc.senders.create({ name: "x", webhookUrl: HOOK, webhookEvents: ["message.nope" as never] }),
      400,
      "invalid_request",
    );
    await expectApiError(
      zc.senders.create({ name: "x", webhookEvents: Array(31).fill("message.inbound") }),
      400,
      "invalid_request",
    );
    await expectApiError(
      zc.senders.create({ name: "x", webhookSignatureVersion: "v3" as never }),
      400,
      "invalid_request",
    );
    const res = await gatewayFetch("/v1/senders", {
      method: "POST",
      headers: { authorization: `Bearer ${await a.idp.token()}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: "invalid_request", message: expect.any(String) });
    expect(await sandbox.requests()).toEqual([]);
    const after = (await env.DB.prepare("SELECT count(*) AS n FROM tenant_senders").first<{ n: number }>())!.n;
    expect(after).toBe(before);
  });

  it("passes Zavu's refusal through and leaves no row", async () => {
    const zc = await a.client();
    const before = (await env.DB.prepare("SELECT count(*) AS n FROM tenant_senders").first<{ n: number }>())!.n;
    // A number the sub-account does not own: Zavu's 400.
    const err = await expectApiError(
      zc.senders.create({ name: "Not mine", phoneNumber: "+15550109999" }),
      400,
      "invalid_request",
    );
    expect(JSON.stringify(err.error)).toContain("phoneNumber");
    const after = (await env.DB.prepare("SELECT count(*) AS n FROM tenant_senders").first<{ n: number }>())!.n;
    expect(after).toBe(before);
  });
});

describe("senders: reads", () => {
  it("list and retrieve show the customer's webhook only, never the relay's URL or any secret", async () => {
    const zc = await a.client();
    const withHook = await zc.senders.create({ name: "Read me", webhookUrl: HOOK, webhookEvents: ["message.read"] });
    const without = await zc.senders.create({ name: "Read me too" });
    await upstreamSender(withHook.id);
    await upstreamSender(without.id);

    const one = await zc.senders.retrieve(withHook.id);
    expectClean(one);
    expect(one.webhook).toEqual({ url: HOOK, events: ["message.read"], active: true, signatureVersion: "v2" });
    const other = await zc.senders.retrieve(without.id);
    expectClean(other);
    expect(other).not.toHaveProperty("webhook");

    const page = await zc.senders.list({ limit: 2 });
    expectClean(page.getPaginatedItems());
    expect(page.nextCursor).toEqual(expect.any(String));
    const all = [];
    for await (const s of zc.senders.list({ limit: 2 })) all.push(s);
    expectClean(all);
    expect(all.find((s) => s.id === withHook.id)?.webhook?.url).toBe(HOOK);
    expect(all.find((s) => s.id === without.id)).not.toHaveProperty("webhook");
    // Only this tenant's senders: Zavu scopes the list to the sub-account.
    expect((await (await b.client()).senders.list()).getPaginatedItems().map((s) => s.id)).not.toContain(withHook.id);
  });
});

describe("senders: update", () => {
  it("stores the customer's fields, forwards the rest, and keeps the relay registered and active upstream", async () => {
    const zc = await a.client();
    const sender = await zc.senders.create({ name: "Before", webhookUrl: HOOK, webhookEvents: ["message.inbound"] });
    const relay = (await upstreamSender(sender.id)).webhook!.url;

    const renamed = await zc.senders.update(sender.id, { name: "After", webhookActive: false });
    expect(renamed.name).toBe("After");
    expect(renamed.webhook).toEqual({ url: HOOK, events: ["message.inbound"], active: false, signatureVersion: "v2" });
    let up = await upstreamSender(sender.id);
    expect(up.name).toBe("After");
    expect(up.webhook).toMatchObject({ url: relay, active: true });
    expect((await senderRow(sender.id))!.webhook_active).toBe(0);

    const events = await zc.senders.update(sender.id, {
      webhookEvents: ["conversation.new"],
      webhookUrl: "https://other.customer.example/hook",
    });
    expectClean(events);
    expect(events.webhook).toMatchObject({ url: "https://other.customer.example/hook", events: ["conversation.new"] });
    up = await upstreamSender(sender.id);
    expect(up.webhook!.url).toBe(relay);
    expect(up.webhook!.events.sort()).toEqual(["conversation.new", "message.delivered", "message.failed"]);

    const removed = await zc.senders.update(sender.id, { webhookUrl: null });
    expect(removed).not.toHaveProperty("webhook");
    expect((await upstreamSender(sender.id)).webhook!.url).toBe(relay);
    expect((await senderRow(sender.id))!.webhook_url).toBeNull();
    expect(await zc.senders.retrieve(sender.id)).not.toHaveProperty("webhook");
  });

  it("a URL given later to a sender made without one gets the events a new sender with a URL gets, upstream too", async () => {
    const zc = await a.client();
    const sender = await zc.senders.create({ name: "Later" });
    expect((await upstreamSender(sender.id)).webhook!.events.sort()).toEqual(["message.delivered", "message.failed"]);
    const updated = await zc.senders.update(sender.id, { webhookUrl: HOOK });
    expect(updated.webhook).toMatchObject({
      url: HOOK,
      events: ["message.inbound", "message.delivered", "message.failed"],
    });
    expect((await upstreamSender(sender.id)).webhook!.events.sort()).toEqual([
      "message.delivered",
      "message.failed",
      "message.inbound",
    ]);
  });

  it("moves the signature version as Zavu does: v1 to v2 straight is a 400, through v1+v2 it works", async () => {
    const zc = await a.client();
    const sender = await zc.senders.create({ name: "Versions", webhookUrl: HOOK, webhookSignatureVersion: "v1" });
    await upstreamSender(sender.id);
    const err = await expectApiError(
      zc.senders.update(sender.id, { webhookSignatureVersion: "v2" }),
      400,
      "invalid_request",
    );
    expect(err.message).toContain("v1+v2");
    expect((await senderRow(sender.id))!.signature_version).toBe("v1");
    expect((await zc.senders.update(sender.id, { webhookSignatureVersion: "v1+v2" })).webhook?.signatureVersion).toBe(
      "v1+v2",
    );
    expect((await zc.senders.update(sender.id, { webhookSignatureVersion: "v2" })).webhook?.signatureVersion).toBe(
      "v2",
    );
    // Upstream, the relay stayed on v2 throughout.
    expect((await upstreamSender(sender.id)).webhook!.signatureVersion).toBe("v2");
  });

  it("refuses a bad URL on update like on create", async () => {
    const zc = await a.client();
    const sender = await zc.senders.create({ name: "Bad update" });
    await upstreamSender(sender.id);
    await expectApiError(
      zc.senders.update(sender.id, { webhookUrl: "https://169.254.169.254/latest" }),
      400,
      "invalid_webhook_url",
    );
  });

  it("adopts a sender made outside the gateway: its upstream webhook moves to the relay, the answer holds no secret", async () => {
    const direct = zavu(await tenantKey(a.id));
    const made = await direct.senders.create({
      name: "Made directly",
      webhookUrl: "https://legacy.customer.example/hook",
      webhookEvents: ["message.inbound"],
      webhookSignatureVersion: "v1",
    });
    registerMade(made.webhook?.secret);
    expect(await senderRow(made.id)).toBeNull();
    const zc = await a.client();
    // A read leaves it alone, and shows no webhook (the gateway has no record of one).
    expect(await zc.senders.retrieve(made.id)).not.toHaveProperty("webhook");

    const adopted = await zc.senders.update(made.id, { name: "Adopted" });
    expectClean(adopted);
    expect(adopted.webhook).toEqual({
      url: "https://legacy.customer.example/hook",
      events: ["message.inbound"],
      active: true,
      signatureVersion: "v1",
    });
    const up = await upstreamSender(made.id);
    const relayId = relayIdOf(up.webhook!.url);
    expect(up.webhook!.signatureVersion).toBe("v2");
    expect(up.webhook!.events.sort()).toEqual(["message.delivered", "message.failed", "message.inbound"]);
    const row = (await senderRow(made.id))!;
    expect(row.relay_id).toBe(relayId);
    expect(await openKey(KEK(), upstreamSecretOwner(relayId), row.upstream_secret_ciphertext!)).toBe(
      up.webhook!.secret,
    );
    const { secret } = await zc.senders.regenerateWebhookSecret(made.id);
    expect(await openKey(KEK(), customerSecretOwner(relayId), (await senderRow(made.id))!.secret_ciphertext!)).toBe(
      secret,
    );
  });
});

/** A secret Zavu showed the test itself (a sender made straight at the sandbox): no gateway answer may carry it. */
function registerMade(secret: string | undefined) {
  if (secret) registerSecret({ name: "Zavu's webhook secret for a sender made outside the gateway", match: secret });
}

describe("senders: delete and regenerate", () => {
  it("deletes upstream and marks the row deleted; the id is gone afterwards", async () => {
    const zc = await a.client();
    const sender = await zc.senders.create({ name: "Short-lived", webhookUrl: HOOK });
    await upstreamSender(sender.id);
    await zc.senders.delete(sender.id);
    const row = (await senderRow(sender.id))!;
    expect(row.deleted_at).toEqual(expect.any(Number));
    await expectApiError(zc.senders.retrieve(sender.id), 404, "not_found");
    await expectApiError(zc.senders.delete(sender.id), 404, "not_found");
    await expectApiError(zc.senders.regenerateWebhookSecret(sender.id), 404, "not_found");
  });

  it("regenerate replaces the customer's secret at once and leaves Zavu's alone", async () => {
    const zc = await a.client();
    const sender = await zc.senders.create({ name: "Rotate", webhookUrl: HOOK });
    const up = await upstreamSender(sender.id);
    const { secret } = await zc.senders.regenerateWebhookSecret(sender.id);
    expect(secret).toMatch(SECRET);
    expect(secret).not.toBe(sender.webhook!.secret);
    const row = (await senderRow(sender.id))!;
    expect(await openKey(KEK(), customerSecretOwner(row.relay_id), row.secret_ciphertext!)).toBe(secret);
    expect((await upstreamSender(sender.id)).webhook!.secret).toBe(up.webhook!.secret);
  });
});

describe("senders: another tenant's", () => {
  it("answers 404 not_found on retrieve, update, delete and regenerate, without asking Zavu", async () => {
    const mine = await (await a.client()).senders.create({ name: "A's", webhookUrl: HOOK });
    await upstreamSender(mine.id);
    const theirs = await b.client();
    await sandbox.clearRequests();
    const unknown = await expectApiError(theirs.senders.retrieve(mine.id), 404, "not_found");
    await expectApiError(theirs.senders.update(mine.id, { name: "taken" }), 404, "not_found");
    await expectApiError(theirs.senders.update(mine.id, { webhookUrl: null }), 404, "not_found");
    await expectApiError(theirs.senders.delete(mine.id), 404, "not_found");
    await expectApiError(theirs.senders.regenerateWebhookSecret(mine.id), 404, "not_found");
    expect(await sandbox.requests()).toEqual([]);
    // Exactly like an id nobody has (which Zavu answers).
    const none = await expectApiError(theirs.senders.retrieve("snd_doesnotexist"), 404, "not_found");
    expect(unknown.error).toEqual(none.error);
    // And A's sender is untouched.
    const row = (await senderRow(mine.id))!;
    expect(row.deleted_at).toBeNull();
    expect((await upstreamSender(mine.id)).name).toBe("A's");
  });
});

describe("senders and the relay", () => {
  /** Zavu posting an event for this sender to the relay URL it was given. */
  async function zavuPosts(relayUrl: string, secret: string, senderId: string, projectId: string) {
    const { body } = zavuEvent({ senderId }, projectId, "message.delivered");
    return gatewayFetch(new URL(relayUrl).pathname, {
      method: "POST",
      headers: { "content-type": "application/json", "x-zavu-signature": await zavuSignature(secret, body) },
      body,
    });
  }

  it("a sender made through the gateway is the relay's: Zavu's secret opens it, the customer's does not; deleted, it is gone", async () => {
    const zc = await a.client();
    const sender = await zc.senders.create({ name: "Relayed", webhookUrl: HOOK });
    const up = await upstreamSender(sender.id);
    expect((await zavuPosts(up.webhook!.url, up.webhook!.secret, sender.id, a.subAccountId)).status).toBe(200);
    const forged = await zavuPosts(up.webhook!.url, sender.webhook!.secret!, sender.id, a.subAccountId);
    expect(forged.status).toBe(401);
    await zc.senders.delete(sender.id);
    expect((await zavuPosts(up.webhook!.url, up.webhook!.secret, sender.id, a.subAccountId)).status).toBe(410);
  });
});
