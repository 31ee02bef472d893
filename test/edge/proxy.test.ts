import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { expectApiError, gatewayClient, gatewayFetch } from "../helpers/gateway";
import { publishJwks, TestIdp } from "../helpers/idp";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

let rsa: TestIdp, ec: TestIdp, ed: TestIdp, org: TestIdp;
let tA: Awaited<ReturnType<typeof insertTenant>>;
let tB: Awaited<ReturnType<typeof insertTenant>>;
let tC: Awaited<ReturnType<typeof insertTenant>>;
let tOrg1: Awaited<ReturnType<typeof insertTenant>>;
let tOrg2: Awaited<ReturnType<typeof insertTenant>>;

beforeAll(async () => {
  await sandbox.reset();
  rsa = await TestIdp.create("https://tenant-a.example/", "RS256");
  ec = await TestIdp.create("https://tenant-b.example", "ES256");
  ed = await TestIdp.create("https://tenant-c.example", "EdDSA");
  org = await TestIdp.create("https://shared-idp.example/", "ES256");
  tA = await insertTenant({ issuer: rsa.issuer, jwks: rsa.jwks(), audience: ["zavu-gateway"] });
  tB = await insertTenant({ issuer: ec.issuer, jwksUri: await publishJwks("/tenant-b/jwks.json", ec.jwks()) });
  tC = await insertTenant({ issuer: ed.issuer, jwks: ed.jwks() });
  const orgJwks = await publishJwks("/shared/jwks.json", org.jwks());
  tOrg1 = await insertTenant({ issuer: org.issuer, jwksUri: orgJwks, claim: { name: "org_id", value: "org_1" } });
  tOrg2 = await insertTenant({ issuer: org.issuer, jwksUri: orgJwks, claim: { name: "org_id", value: "org_2" } });
});

const sends = async () => (await sandbox.requests()).filter((r) => r.method === "POST" && r.path === "/v1/messages");

describe("customer edge: the official SDK through the gateway", () => {
  it("sends and reads balance as the tenant's own sub-account (RS256 inline JWKS)", async () => {
    const client = gatewayClient(await rsa.token({ aud: "zavu-gateway" }));
    await sandbox.clearRequests();
    const { message } = await client.messages.send({ to: "+15551234567", text: "hi from A" });
    expect(message).toMatchObject({ to: "+15551234567", text: "hi from A", status: "queued" });
    const balance = await client.balance.retrieve();
    expect(balance).toMatchObject({ isSubAccount: true, currency: "usd", totalSpent: 1 });
    const log = await sandbox.requests();
    // The customer's two calls went out with the tenant's own key; the main key was used only by the
    // gateway itself, to read the team balance for its spend ledger.
    const customer = log.filter((r) => r.keyId !== "main");
    expect(customer.map((r) => `${r.method} ${r.path}`).sort()).toEqual(["GET /v1/balance", "POST /v1/messages"]);
    for (const r of customer)
      expect({ sub: r.subAccountId, key: r.keyId }).toEqual({ sub: tA.subAccountId, key: tA.keyId });
    for (const r of log.filter((r) => r.keyId === "main")) expect(`${r.method} ${r.path}`).toBe("GET /v1/balance");
  });

  it("covers every proxied messaging call: list, retrieve, attachments, reactions, typing", async () => {
    const client = gatewayClient(await ec.token());
    const sent = (await client.messages.send({ to: "+15550000001", text: "one" })).message;
    await client.messages.send({ to: "+15550000002", text: "two" });
    const page = await client.messages.list({ limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.nextCursor).toBeTruthy();
    const all = [];
    for await (const m of client.messages.list({ limit: 1 })) all.push(m.text);
    expect(all).toEqual(["two", "one"]);
    expect((await client.messages.retrieve(sent.id)).message.id).toBe(sent.id);
    expect((await client.messages.listAttachments(sent.id)).items).toEqual([]);
    expect((await client.messages.react(sent.id, { emoji: "🎉", "Zavu-Sender": "snd_9" })).message.messageType).toBe(
      "reaction",
    );
    expect(await client.messages.showTyping(sent.id)).toEqual({ success: true });
    const listCall = (await sandbox.requests()).find((r) => r.path === "/v1/messages" && r.method === "GET");
    expect(listCall?.query).toContain("limit=1");
    expect(listCall?.subAccountId).toBe(tB.subAccountId);
  });

  it("EdDSA tokens work too", async () => {
    const client = gatewayClient(await ed.token());
    expect((await client.balance.retrieve()).isSubAccount).toBe(true);
    const last = (await sandbox.requests())[0]!;
    expect(last).toMatchObject({ path: "/v1/balance", subAccountId: tC.subAccountId, keyId: tC.keyId });
  });

  it("keeps tenants apart: B cannot read A's message, and each lists only its own", async () => {
    const a = gatewayClient(await rsa.token({ aud: "zavu-gateway" }));
    const b = gatewayClient(await ec.token());
    const { message } = await a.messages.send({ to: "+15551112222", text: "A only" });
    await expectApiError(b.messages.retrieve(message.id), 404, "not_found");
    for await (const m of b.messages.list()) expect(m.text).not.toBe("A only");
  });

  it("maps one shared issuer to two tenants by claim value", async () => {
    await sandbox.clearRequests();
    await gatewayClient(await org.token({ org_id: "org_1" })).messages.send({ to: "+15550000011" });
    await gatewayClient(await org.token({ org_id: "org_2" })).messages.send({ to: "+15550000022" });
    const [second, first] = await sends();
    expect(first?.subAccountId).toBe(tOrg1.subAccountId);
    expect(second?.subAccountId).toBe(tOrg2.subAccountId);
    await expectApiError(gatewayClient(await org.token({ org_id: "org_3" })).balance.retrieve(), 401, "unauthorized");
    await expectApiError(gatewayClient(await org.token()).balance.retrieve(), 401, "unauthorized");
  });
});

describe("customer edge: what is forwarded", () => {
  it("replaces Authorization, strips cookies, hop-by-hop and Cloudflare headers, passes Zavu-Sender and Idempotency-Key", async () => {
    await sandbox.clearRequests();
    const res = await gatewayFetch("/v1/messages?trace=1", {
      method: "POST",
      headers: {
        authorization: `Bearer ${await ec.token()}`,
        "content-type": "application/json",
        cookie: "session=secret",
        "cf-connecting-ip": "203.0.113.9",
        "x-forwarded-for": "203.0.113.9",
        "keep-alive": "timeout=5",
        "zavu-sender": "snd_42",
        "idempotency-key": "idem-1",
        "x-request-id": "req-abcdef-123",
      },
      body: JSON.stringify({ to: "+15553334444", text: "headers" }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("x-request-id")).toBe("req-abcdef-123");
    const [call] = await sends();
    expect(call!.query).toBe("?trace=1");
    expect(call!.headers["zavu-sender"]).toBe("snd_42");
    expect(call!.headers["idempotency-key"]).toBe("idem-1");
    const names = call!.headers["*names"]!.split(",");
    for (const stripped of ["cookie", "cf-connecting-ip", "x-forwarded-for", "keep-alive"])
      expect(names).not.toContain(stripped);
    expect(names).toContain("x-request-id");
  });

  it("gives every response an x-request-id, errors included", async () => {
    const ok = await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${await ec.token()}` } });
    expect(ok.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await gatewayFetch("/v1/balance");
    expect(bad.status).toBe(401);
    expect(bad.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses /v1/sub-accounts and anything off the allowlist with 403 route_not_allowed, never reaching upstream", async () => {
    const token = await ec.token();
    await sandbox.clearRequests();
    const client = gatewayClient(token);
    await expectApiError(client.subAccounts.list(), 403, "route_not_allowed");
    await expectApiError(client.subAccounts.create({ name: "sneaky" }), 403, "route_not_allowed");
    await expectApiError(client.subAccounts.retrieve(tA.subAccountId), 403, "route_not_allowed");
    for (const path of [
      "/v1/messages/..%2Fsub-accounts",
      "/v1/messages/%2e%2e/sub-accounts",
      "/v1/messages/x%2F..%2F..%2Fsub-accounts",
      "/v1/contacts",
      "/v1/messages/abc/attachments/extra",
    ]) {
      const res = await gatewayFetch(path, { headers: { authorization: `Bearer ${token}` } });
      expect({ path, status: res.status, body: await res.json() }).toMatchObject({
        status: 403,
        body: { code: "route_not_allowed" },
      });
    }
    const del = await gatewayFetch("/v1/messages", { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
    expect(del.status).toBe(403);
    expect(await sandbox.requests()).toEqual([]);
  });

  it("answers unknown paths outside /v1 with a JSON 404", async () => {
    const res = await gatewayFetch("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "not_found" });
  });

  it("healthz reports the version", async () => {
    const res = await gatewayFetch("/healthz");
    expect(await res.json()).toEqual({ status: "ok", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it("never uses another tenant's key: a ciphertext moved to another row does not open", async () => {
    const victim = await env.DB.prepare("SELECT key_ciphertext FROM tenants WHERE id = ?")
      .bind(tA.id)
      .first<string>("key_ciphertext");
    const thief = await insertTenant({ issuer: "https://thief.example", jwks: ec.jwks() });
    await env.DB.prepare("UPDATE tenants SET key_ciphertext = ? WHERE id = ?").bind(victim, thief.id).run();
    const token = await ec.token({ iss: "https://thief.example" });
    await sandbox.clearRequests();
    const res = await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ code: "internal_error" });
    expect(body).not.toMatch(/zv_live|key_ciphertext/);
    expect(await sandbox.requests()).toEqual([]);
    void zavu(MAIN_KEY);
  });
});
