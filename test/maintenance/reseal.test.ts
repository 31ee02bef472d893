import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, it } from "vitest";
import { base64ToBytes, bytesToBase64Url } from "../../src/lib/encoding";
import { kekId, openKey } from "../../src/storage/key-vault";
import { customerSecretOwner } from "../../src/storage/senders-repo";
import { admin, tenantBody } from "../helpers/admin";
import { deployment, newKek } from "../helpers/deployment";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { insertSender, type TestSender, zavuEvent, zavuSignature } from "../helpers/senders";

/**
 * A key-encryption-key rotation, end to end: tenants onboarded under key A; a new version runs
 * with KEY_ENCRYPTION_KEY = B and KEY_ENCRYPTION_KEY_PREVIOUS = A; the re-seal moves every stored
 * key to B in batches (admin calls, then the cron) while tenants keep sending; then A is removed.
 */
const A = env.KEY_ENCRYPTION_KEY;
const B = newKek();
const rotated = deployment({ KEY_ENCRYPTION_KEY: B, KEY_ENCRYPTION_KEY_PREVIOUS: A });
const withoutPrevious = deployment({ KEY_ENCRYPTION_KEY: B });

interface Onboarded {
  id: string;
  subAccountId: string;
  idp: TestIdp;
}
const tenants: Onboarded[] = [];
/** A webhook endpoint registered under key A: its signing secret is sealed like the keys. */
let webhook: { id: string; secret: string };
/** A sender made under key A: both its secrets (the customer's, Zavu's) are sealed like the keys. */
let sender: TestSender;

/** The format stored before KEK ids existed (what a deployment from before this change holds). */
async function legacySeal(kek: string, tenantId: string, plaintext: string) {
  const key = await crypto.subtle.importKey("raw", base64ToBytes(kek), "AES-GCM", false, ["encrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const enc = new TextEncoder();
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: enc.encode(tenantId) },
    key,
    enc.encode(plaintext),
  );
  return bytesToBase64Url(new Uint8Array([...iv, ...new Uint8Array(ct)]));
}

const storedCiphertexts = async () =>
  (
    await env.DB.prepare("SELECT id, key_ciphertext FROM tenants ORDER BY id").all<{
      id: string;
      key_ciphertext: string;
    }>()
  ).results;

/** Sends one message as this tenant through the given deployment; returns the HTTP status. */
async function send(d: ReturnType<typeof deployment>, t: Onboarded): Promise<number> {
  return d
    .client(await t.idp.token())
    .messages.send({ to: "+15551234567", text: "during re-seal" })
    .then(
      () => 202,
      (e: { status?: number }) => e.status ?? 0,
    );
}

beforeAll(async () => {
  await sandbox.reset();
  for (let i = 0; i < 7; i++) {
    const idp = await TestIdp.create(`https://reseal-${i}-${crypto.randomUUID()}.example`, "ES256");
    const res = await admin("POST", "/tenants", { body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }) });
    expect(res.status, res.text).toBe(201);
    tenants.push({ id: res.body.tenant.id, subAccountId: res.body.tenant.subAccountId, idp });
  }
  // One tenant's key as a deployment from before KEK ids stored it.
  const legacy = tenants[6]!;
  const plaintext = (await env.SANDBOX.fetch(
    new Request(`http://zavu.sandbox/v1/sub-accounts/${legacy.subAccountId}/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.ZAVU_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "gateway", environment: "live" }),
    }),
  ).then((r) => r.json())) as { apiKey: { key: string } };
  await env.DB.prepare("UPDATE tenants SET key_ciphertext = ? WHERE id = ?")
    .bind(await legacySeal(A, legacy.id, plaintext.apiKey.key), legacy.id)
    .run();
  const registered = await admin("POST", "/webhooks", {
    body: { url: "https://zavu.sandbox/__sandbox/hooks/reseal", events: ["tenant.status.changed"] },
  });
  expect(registered.status, registered.text).toBe(201);
  webhook = registered.body.webhook;
  sender = await insertSender(tenants[0]!.id, { webhookUrl: null });
});

const storedSenderSecrets = async () =>
  (await env.DB.prepare("SELECT secret_ciphertext, upstream_secret_ciphertext FROM tenant_senders WHERE relay_id = ?")
    .bind(sender.relayId)
    .first<{ secret_ciphertext: string; upstream_secret_ciphertext: string }>())!;

const storedWebhookSecret = async () =>
  (await env.DB.prepare("SELECT secret_ciphertext FROM webhooks WHERE id = ?")
    .bind(webhook.id)
    .first<string>("secret_ciphertext"))!;

/** A test event through the given deployment, verified with the secret shown at registration. */
async function pingVerifies(d: ReturnType<typeof deployment>): Promise<boolean> {
  const res = await d.admin("POST", `/webhooks/${webhook.id}/test`);
  if (res.status !== 200 || res.body.delivery.status !== "delivered") return false;
  const hook = (await sandbox.hooks("reseal")).find((h) => h.headers["webhook-id"] === res.body.delivery.eventId);
  if (!hook) return false;
  return (new Webhook(webhook.secret).verify(hook.body, hook.headers) as { type: string }).type === "webhook.test";
}

describe("key-encryption-key rotation", () => {
  it("every stored key names the key that sealed it", async () => {
    const idA = await kekId(A);
    const sealed = await storedCiphertexts();
    expect(sealed.filter((r) => r.key_ciphertext.startsWith(`v2.${idA}.`))).toHaveLength(6);
    expect(sealed.filter((r) => !r.key_ciphertext.startsWith("v2."))).toHaveLength(1); // the legacy one
  });

  it("without the previous key, a key sealed under it does not open (which is why it is kept during the re-seal)", async () => {
    expect(await send(withoutPrevious, tenants[0]!)).toBe(500);
  });

  it("re-seals in batches while tenants send, without one failed request; then the previous key can go", async () => {
    const [idA, idB] = [await kekId(A), await kekId(B)];
    const before = await rotated.admin("GET", "/maintenance");
    expect(before.status, before.text).toBe(200);
    expect(before.body.keys).toEqual({
      currentKekId: idB,
      previousKekIds: [idA],
      sealedUnderCurrent: 0,
      sealedUnderPrevious: 9, // 6 keys, the webhook's secret and the sender's two
      sealedOtherwise: 1,
      remaining: 10,
    });

    // Tenants send continuously from before the first batch to after the last (at most 200 sends).
    await sandbox.clearRequests();
    const statuses: number[] = [];
    let sending = true;
    const traffic = (async () => {
      for (let i = 0; (sending || i < tenants.length) && i < 200; i++)
        statuses.push(await send(rotated, tenants[i % tenants.length]!));
    })();
    try {
      const first = await rotated.admin("POST", "/maintenance/reseal", { limit: 3 });
      expect(first.status, first.text).toBe(200);
      expect(first.body.counts).toEqual({ resealed: 3, unreadable: 0, changedMeanwhile: 0 });
      expect(first.body.passComplete).toBe(false);
      expect(first.body.keys.remaining).toBe(7);
      expect(first.body.job).toMatchObject({ name: "reseal-keys", passInProgress: true, passCounts: { resealed: 3 } });

      const second = await rotated.admin("POST", "/maintenance/reseal", { limit: 2 });
      expect(second.body.counts.resealed).toBe(2);
      expect(second.body.keys.remaining).toBe(5);

      // The cron picks up the same pass where the admin calls left it.
      await rotated.scheduled();
      const status = await rotated.admin("GET", "/maintenance");
      expect(status.body.keys).toMatchObject({ sealedUnderCurrent: 10, remaining: 0 });
      const job = status.body.jobs.find((j: { name: string }) => j.name === "reseal-keys");
      expect(job).toMatchObject({ passInProgress: false, passes: 1, lastPassCounts: { resealed: 10, unreadable: 0 } });
    } finally {
      sending = false;
      await traffic;
    }
    expect(statuses.length).toBeGreaterThanOrEqual(tenants.length);
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    // Each send reached Zavu as its own sub-account.
    const sends = (await sandbox.requests()).filter((r) => r.method === "POST" && r.path === "/v1/messages");
    expect(sends).toHaveLength(statuses.length);
    const subIds = new Set(tenants.map((t) => t.subAccountId));
    expect(sends.every((r) => r.status === 202 && subIds.has(r.subAccountId!))).toBe(true);

    for (const row of await storedCiphertexts()) expect(row.key_ciphertext.startsWith(`v2.${idB}.`)).toBe(true);
    expect((await storedWebhookSecret()).startsWith(`v2.${idB}.`)).toBe(true);
    const senderSecrets = await storedSenderSecrets();
    expect(senderSecrets.secret_ciphertext.startsWith(`v2.${idB}.`)).toBe(true);
    expect(senderSecrets.upstream_secret_ciphertext.startsWith(`v2.${idB}.`)).toBe(true);
    // Each still opens, under B alone, bound to its own sender and role.
    expect(await openKey(B, customerSecretOwner(sender.relayId), senderSecrets.secret_ciphertext)).toBe(
      sender.customerSecret,
    );

    // KEY_ENCRYPTION_KEY_PREVIOUS removed (a new version: fresh isolates): every tenant still sends,
    // and the webhook's deliveries still carry signatures its receiver verifies with the same secret.
    const final = deployment({ KEY_ENCRYPTION_KEY: B });
    for (const t of tenants) expect(await send(final, t)).toBe(202);
    expect(await pingVerifies(final)).toBe(true);
    // The relay opens Zavu's secret under B alone: a signed event is taken.
    const event = zavuEvent(sender, tenants[0]!.subAccountId, "message.delivered");
    const relayed = await final.fetch(`/relay/zavu/${sender.relayId}`, {
      method: "POST",
      headers: { "x-zavu-signature": await zavuSignature(sender.zavuSecret, event.body) },
      body: event.body,
    });
    expect(relayed.status).toBe(200);
  });

  it("a re-seal with nothing left to move says so, and changes nothing", async () => {
    const before = await storedCiphertexts();
    const again = await rotated.admin("POST", "/maintenance/reseal", {});
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ counts: { resealed: 0 }, passComplete: true, keys: { remaining: 0 } });
    expect(await storedCiphertexts()).toEqual(before);
  });

  it("refuses a bad batch size with a clear error", async () => {
    const res = await rotated.admin("POST", "/maintenance/reseal", { limit: 0 });
    expect([res.status, res.body.code]).toEqual([400, "invalid_request"]);
    const unauth = await rotated.admin("POST", "/maintenance/reseal", {}, "wrong-token");
    expect([unauth.status, unauth.body.code]).toEqual([401, "unauthorized"]);
  });
});
