import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN_NEXT, admin, tenantBody } from "../helpers/admin";
import { expectApiError, gatewayClient } from "../helpers/gateway";
import { publishJwks, TestIdp } from "../helpers/idp";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";

const main = zavu(MAIN_KEY);
let idp: TestIdp;

beforeAll(async () => {
  await sandbox.reset();
});

async function newIdp(alg: "ES256" | "RS256" | "EdDSA" = "ES256") {
  return TestIdp.create(`https://${crypto.randomUUID()}.idp.example`, alg);
}

async function createTenant(extra: Record<string, unknown> = {}, identityExtra: Record<string, unknown> = {}) {
  idp = await newIdp();
  const res = await admin("POST", "/tenants", {
    body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks(), ...identityExtra }, extra),
  });
  expect(res.status, res.text).toBe(201);
  return { tenant: res.body.tenant, idp };
}

describe("admin: authentication and the published contract", () => {
  it("refuses calls without the admin token, or with a wrong one", async () => {
    for (const token of [null, "wrong", "test-admin-token-a-but-longer", ""]) {
      const res = await admin("GET", "/tenants", { token });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe("unauthorized");
    }
  });

  it("accepts either of two configured tokens (rotation without downtime)", async () => {
    expect((await admin("GET", "/tenants")).status).toBe(200);
    expect((await admin("GET", "/tenants", { token: ADMIN_TOKEN_NEXT })).status).toBe(200);
  });

  it("publishes the OpenAPI document and a reference page", async () => {
    const doc = await admin("GET", "/openapi.json", { token: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(doc.body.servers).toEqual([{ url: "/admin/v1" }]);
    for (const path of [
      "/tenants",
      "/tenants/{id}",
      "/tenants/{id}/identity",
      "/tenants/{id}/rotate-key",
      "/tenants/{id}/repair",
      "/tenants/import",
      "/audit",
    ]) {
      expect(Object.keys(doc.body.paths)).toContain(path);
    }
    const page = await admin("GET", "/docs", { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.text).toContain("/admin/v1/openapi.json");
  });
});

describe("admin: onboarding", () => {
  it("creates the sub-account, stores its key encrypted, and the tenant's JWTs work at once", async () => {
    const { tenant, idp } = await createTenant({ externalId: "crm-1", creditLimit: 5000, metadata: { plan: "pro" } });
    expect(tenant).toMatchObject({
      name: "Acme Corp",
      externalId: "crm-1",
      status: "active",
      creditLimit: 5000,
      totalSpent: 0,
      metadata: { plan: "pro" },
      subAccountId: expect.stringMatching(/^sa_/),
      keyPrefix: expect.stringMatching(/^zv_live_sub_/),
      identity: { issuer: idp.issuer, jwksUri: null, audience: null, algorithms: null, claim: null },
    });
    expect(tenant.id).toMatch(/^tnt_[0-9a-z]{26}$/);
    const upstream = (await main.subAccounts.retrieve(tenant.subAccountId)).subAccount;
    expect(upstream).toMatchObject({ externalId: tenant.id, creditLimit: 5000, name: "Acme Corp" });
    const row = await env.DB.prepare("SELECT key_ciphertext FROM tenants WHERE id = ?")
      .bind(tenant.id)
      .first<string>("key_ciphertext");
    expect(row).toBeTruthy();
    expect(row).not.toContain("zv_live");
    await sandbox.clearRequests();
    await gatewayClient(await idp.token()).messages.send({ to: "+15551234567" });
    const [send] = (await sandbox.requests()).filter((r) => r.method === "POST");
    expect(send?.subAccountId).toBe(tenant.subAccountId);
  });

  it("never returns a Zavu key, the encryption key or the admin token", async () => {
    const { tenant } = await createTenant();
    const bodies = [
      (await admin("GET", `/tenants/${tenant.id}`)).text,
      (await admin("GET", "/tenants?limit=100")).text,
      (await admin("GET", `/tenants/${tenant.id}/api-keys`)).text,
      (await admin("POST", `/tenants/${tenant.id}/rotate-key`)).text,
      (await admin("GET", "/audit?limit=200")).text,
    ];
    for (const text of bodies) {
      expect(text).not.toMatch(/zv_live_sub_[a-z0-9]{20,}/);
      expect(text).not.toContain(env.KEY_ENCRYPTION_KEY);
      expect(text).not.toContain("test-admin-token");
      expect(text).not.toMatch(/ciphertext/i);
    }
  });

  it("validates every body field with a clear 400", async () => {
    const i = await newIdp();
    const good = { issuer: i.issuer, jwks: i.jwks() };
    const privateJwk = { ...i.publicJwk, d: "c2VjcmV0" };
    const cases: Array<[string, unknown, RegExp]> = [
      ["not JSON", "{oops", /JSON|body/i],
      ["no name", { identity: good }, /name/],
      ["empty name", tenantBody(good, { name: " " }), /name/],
      ["name over 200", tenantBody(good, { name: "x".repeat(201) }), /name/],
      ["negative creditLimit", tenantBody(good, { creditLimit: -5 }), /creditLimit/],
      ["fractional creditLimit", tenantBody(good, { creditLimit: 1.5 }), /creditLimit/],
      ["metadata not an object", tenantBody(good, { metadata: [1] }), /metadata/],
      ["unknown field", tenantBody(good, { plan: "gold" }), /plan|Unrecognized/i],
      ["no identity", { name: "x" }, /identity/],
      ["neither jwks nor jwksUri", tenantBody({ issuer: i.issuer }), /exactly one of jwksUri or jwks/],
      ["both jwks and jwksUri", tenantBody({ ...good, jwksUri: "https://idp.test/x" }), /exactly one/],
      ["a private key in jwks", tenantBody({ issuer: i.issuer, jwks: { keys: [privateJwk] } }), /cannot be used/],
      [
        "a symmetric key in jwks",
        tenantBody({ issuer: i.issuer, jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] } }),
        /cannot be used/,
      ],
      ["HS256 allowed", tenantBody({ ...good, algorithms: ["HS256"] }), /asymmetric/],
      ["alg none allowed", tenantBody({ ...good, algorithms: ["none"] }), /asymmetric/],
      ["plain http jwksUri", tenantBody({ issuer: i.issuer, jwksUri: "http://idp.test/jwks.json" }), /https/],
      ["loopback jwksUri", tenantBody({ issuer: i.issuer, jwksUri: "https://127.0.0.1/jwks.json" }), /public host/],
      ["private-range jwksUri", tenantBody({ issuer: i.issuer, jwksUri: "https://10.0.0.8/jwks.json" }), /public host/],
      [
        "metadata-service jwksUri",
        tenantBody({ issuer: i.issuer, jwksUri: "https://169.254.169.254/latest" }),
        /public host/,
      ],
      ["localhost jwksUri", tenantBody({ issuer: i.issuer, jwksUri: "https://localhost/jwks.json" }), /public host/],
      [
        "credentials in jwksUri",
        tenantBody({ issuer: i.issuer, jwksUri: "https://u:p@idp.test/jwks.json" }),
        /credentials/,
      ],
      ["jwksUri that 404s", tenantBody({ issuer: i.issuer, jwksUri: "https://idp.test/missing.json" }), /HTTP 404/],
      ["bad claim name", tenantBody({ ...good, claim: { name: 'a"b', value: "x" } }), /claim/],
    ];
    for (const [name, body, message] of cases) {
      const res = await admin("POST", "/tenants", { body });
      expect({ name, status: res.status, code: res.body?.code }).toEqual({
        name,
        status: 400,
        code: "invalid_request",
      });
      expect(res.body.message, name).toMatch(message);
    }
    const redirect = await admin("POST", "/tenants", {
      body: tenantBody({ issuer: i.issuer, jwksUri: await publishJwks("/empty.json", { keys: [] }) }),
    });
    expect(redirect.status).toBe(400);
    expect(
      (await admin("GET", "/tenants?limit=100")).body.items.filter(
        (t: { identity: { issuer: string } }) => t.identity.issuer === i.issuer,
      ),
    ).toEqual([]);
  });

  it("fetches a jwksUri once at registration and accepts it when it serves public keys", async () => {
    const i = await newIdp("RS256");
    const uri = await publishJwks(`/reg/${crypto.randomUUID()}.json`, i.jwks());
    const res = await admin("POST", "/tenants", {
      body: tenantBody({ issuer: i.issuer, jwksUri: uri, audience: "my-api" }),
    });
    expect(res.status).toBe(201);
    expect(res.body.tenant.identity).toMatchObject({ jwksUri: uri, audience: ["my-api"] });
    expect((await gatewayClient(await i.token({ aud: "my-api" })).balance.retrieve()).isSubAccount).toBe(true);
  });

  it("keeps one identity per tenant: 409 for a taken issuer, claim value or externalId", async () => {
    const { tenant, idp } = await createTenant({ externalId: "dup-ext" });
    const again = await admin("POST", "/tenants", { body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }) });
    expect([again.status, again.body.code]).toEqual([409, "conflict"]);
    const other = await newIdp();
    const ext = await admin("POST", "/tenants", {
      body: tenantBody({ issuer: other.issuer, jwks: other.jwks() }, { externalId: "dup-ext" }),
    });
    expect([ext.status, ext.body.code]).toEqual([409, "conflict"]);

    const shared = await newIdp();
    const org = (value: string, name = "org_id") =>
      tenantBody({ issuer: shared.issuer, jwks: shared.jwks(), claim: { name, value } });
    expect((await admin("POST", "/tenants", { body: org("o1") })).status).toBe(201);
    expect((await admin("POST", "/tenants", { body: org("o2") })).status).toBe(201);
    expect((await admin("POST", "/tenants", { body: org("o2") })).status).toBe(409);
    expect((await admin("POST", "/tenants", { body: org("o3", "tenant") })).body.message).toMatch(/org_id/);
    expect(
      (await admin("POST", "/tenants", { body: tenantBody({ issuer: shared.issuer, jwks: shared.jwks() }) })).status,
    ).toBe(409);
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.externalId).toBe("dup-ext"); // untouched
  });

  it("replays the first result for a retried Idempotency-Key and refuses a different body with it", async () => {
    const i = await newIdp();
    const body = tenantBody({ issuer: i.issuer, jwks: i.jwks() }, { externalId: `idem-${i.issuer}` });
    const first = await admin("POST", "/tenants", { body, idempotencyKey: "create-1" });
    const second = await admin("POST", "/tenants", { body, idempotencyKey: "create-1" });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.tenant.id).toBe(first.body.tenant.id);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    const upstream = [];
    for await (const s of main.subAccounts.list()) if (s.externalId === first.body.tenant.id) upstream.push(s);
    expect(upstream).toHaveLength(1);
    const other = await admin("POST", "/tenants", { body: { ...body, name: "Other" }, idempotencyKey: "create-1" });
    expect([other.status, other.body.code]).toEqual([422, "idempotency_key_reused"]);
  });
});

describe("admin: reading tenants", () => {
  it("lists with keyset pagination and filters by status and externalId", async () => {
    const made = [];
    for (let n = 0; n < 3; n++) made.push((await createTenant({ externalId: `page-${n}` })).tenant);
    await admin("PATCH", `/tenants/${made[1].id}`, { body: { status: "inactive" } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await admin(
        "GET",
        `/tenants?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((t) => t.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const t of made) expect(seen).toContain(t.id);
    expect([...seen].sort()).toEqual(seen); // chronological ids, ascending
    const inactive = await admin("GET", "/tenants?status=inactive&limit=100");
    expect(inactive.body.items.map((t: { id: string }) => t.id)).toContain(made[1].id);
    expect(inactive.body.items.every((t: { status: string }) => t.status === "inactive")).toBe(true);
    const byExt = await admin("GET", "/tenants?externalId=page-2");
    expect(byExt.body.items.map((t: { id: string }) => t.id)).toEqual([made[2].id]);
    expect((await admin("GET", "/tenants?limit=0")).status).toBe(400);
    expect((await admin("GET", "/tenants?status=weird")).status).toBe(400);
  });

  it("returns one tenant with its upstream totalSpent, 404 for an unknown id, 400 for a malformed one", async () => {
    const { tenant, idp } = await createTenant();
    await gatewayClient(await idp.token()).messages.send({ to: "+15551234567" });
    const res = await admin("GET", `/tenants/${tenant.id}`);
    expect(res.body.tenant.totalSpent).toBe(1);
    expect((await admin("GET", "/tenants/tnt_00000000000000000000000000")).status).toBe(404);
    expect((await admin("GET", "/tenants/nope")).body.code).toBe("invalid_request");
  });

  it("reads the balance from upstream and the key list with prefixes only", async () => {
    const { tenant } = await createTenant({ creditLimit: 900 });
    const balance = await admin("GET", `/tenants/${tenant.id}/balance`);
    expect(balance.body).toEqual({
      balance: expect.any(Number),
      currency: "usd",
      creditLimit: 900,
      totalSpent: 0,
      ledger: { available: 900, estimate: expect.any(Number), refreshedAt: expect.any(Number) },
    });
    const keys = await admin("GET", `/tenants/${tenant.id}/api-keys`);
    expect(keys.body.items).toHaveLength(1);
    expect(keys.body.items[0]).toMatchObject({ keyPrefix: tenant.keyPrefix, current: true, revokedAt: null });
    expect(keys.body.items[0].key).toBeUndefined();
  });
});

describe("admin: lifecycle", () => {
  it("PATCH mirrors to Zavu, and suspension bites on the very next request", async () => {
    const { tenant, idp } = await createTenant({ creditLimit: 100 });
    const client = gatewayClient(await idp.token());
    await client.messages.send({ to: "+15551234567" });
    const res = await admin("PATCH", `/tenants/${tenant.id}`, {
      body: { name: "Renamed", creditLimit: null, metadata: { tier: 2 }, status: "inactive" },
    });
    expect(res.status).toBe(200);
    expect(res.body.tenant).toMatchObject({
      name: "Renamed",
      creditLimit: null,
      metadata: { tier: 2 },
      status: "inactive",
    });
    expect((await main.subAccounts.retrieve(tenant.subAccountId)).subAccount).toMatchObject({
      name: "Renamed",
      creditLimit: null,
      status: "inactive",
    });
    await expectApiError(client.messages.send({ to: "+15551234567" }), 403, "tenant_suspended");
    expect((await client.balance.retrieve()).isSubAccount).toBe(true);
    await admin("PATCH", `/tenants/${tenant.id}`, { body: { status: "active" } });
    expect((await client.messages.send({ to: "+15551234567" })).message.status).toBe("queued");
  });

  it("a lowered credit limit bites on the next request", async () => {
    const { tenant, idp } = await createTenant();
    const client = gatewayClient(await idp.token());
    await client.messages.send({ to: "+15551234567" });
    await admin("PATCH", `/tenants/${tenant.id}`, { body: { creditLimit: 1 } });
    await sandbox.clearRequests();
    await expectApiError(client.messages.send({ to: "+15551234567" }), 402, "credit_limit_reached");
    expect((await sandbox.requests()).filter((r) => r.method === "POST")).toEqual([]);
  });

  it("PATCH validates: empty body, bad status, unknown field", async () => {
    const { tenant } = await createTenant();
    for (const body of [{}, { status: "deactivated" }, { colour: "red" }, { creditLimit: -1 }]) {
      const res = await admin("PATCH", `/tenants/${tenant.id}`, { body });
      expect([res.status, res.body.code]).toEqual([400, "invalid_request"]);
    }
  });

  it("PUT identity replaces the identity: the old tokens stop working, the new ones work", async () => {
    const { tenant, idp } = await createTenant();
    const oldToken = await idp.token();
    expect((await gatewayClient(oldToken).balance.retrieve()).isSubAccount).toBe(true);
    const next = await newIdp("EdDSA");
    const res = await admin("PUT", `/tenants/${tenant.id}/identity`, {
      body: { issuer: next.issuer, jwks: next.jwks() },
    });
    expect(res.status).toBe(200);
    expect(res.body.tenant.identity.issuer).toBe(next.issuer);
    await expectApiError(gatewayClient(oldToken).balance.retrieve(), 401, "unauthorized");
    expect((await gatewayClient(await next.token()).balance.retrieve()).isSubAccount).toBe(true);
  });

  it("rotates the key: the new one is used, the old one is revoked upstream", async () => {
    const { tenant, idp } = await createTenant();
    const client = gatewayClient(await idp.token());
    await client.balance.retrieve();
    const rotated = await admin("POST", `/tenants/${tenant.id}/rotate-key`);
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({
      keyId: expect.stringMatching(/^key_/),
      keyPrefix: expect.stringMatching(/^zv_live_sub_/),
      previousKeyRevoked: true,
    });
    await sandbox.clearRequests();
    await client.balance.retrieve();
    expect((await sandbox.requests())[0]?.keyId).toBe(rotated.body.keyId);
    const keys = (await main.subAccounts.apiKeys.list(tenant.subAccountId)).items;
    expect(keys.filter((k) => !k.revokedAt).map((k) => k.id)).toEqual([rotated.body.keyId]);
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.keyPrefix).toBe(rotated.body.keyPrefix);
  });

  it("DELETE deactivates upstream, erases the ciphertext, keeps the record; the edge refuses at once", async () => {
    const { tenant, idp } = await createTenant();
    const client = gatewayClient(await idp.token());
    await client.balance.retrieve();
    const res = await admin("DELETE", `/tenants/${tenant.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tenant: { id: tenant.id, status: "deactivated" }, keysRevoked: 1 });
    const row = await env.DB.prepare("SELECT status, key_ciphertext FROM tenants WHERE id = ?").bind(tenant.id).first();
    expect(row).toEqual({ status: "deactivated", key_ciphertext: null });
    await expectApiError(client.balance.retrieve(), 403, "tenant_deactivated");
    await expectApiError(client.messages.send({ to: "+15551234567" }), 403, "tenant_deactivated");
    expect((await admin("DELETE", `/tenants/${tenant.id}`)).body.keysRevoked).toBe(0);
    expect((await admin("PATCH", `/tenants/${tenant.id}`, { body: { name: "x" } })).status).toBe(409);
    expect((await admin("POST", `/tenants/${tenant.id}/rotate-key`)).status).toBe(409);
  });

  it("imports an existing sub-account with its key, and refuses a key that is not its own", async () => {
    const { subAccount } = await main.subAccounts.create({ name: "Legacy Co", creditLimit: 700 });
    const other = (await main.subAccounts.create({ name: "Someone else" })).subAccount;
    const i = await newIdp();
    const wrong = await admin("POST", "/tenants/import", {
      body: { subAccountId: subAccount.id, apiKey: other.apiKey, identity: { issuer: i.issuer, jwks: i.jwks() } },
    });
    expect([wrong.status, wrong.body.code]).toEqual([400, "invalid_request"]);
    const res = await admin("POST", "/tenants/import", {
      body: { subAccountId: subAccount.id, apiKey: subAccount.apiKey, identity: { issuer: i.issuer, jwks: i.jwks() } },
    });
    expect(res.status).toBe(201);
    expect(res.body.tenant).toMatchObject({
      name: "Legacy Co",
      status: "active",
      subAccountId: subAccount.id,
      creditLimit: 700,
    });
    expect(res.text).not.toContain(subAccount.apiKey);
    await sandbox.clearRequests();
    await gatewayClient(await i.token()).balance.retrieve();
    expect((await sandbox.requests())[0]?.subAccountId).toBe(subAccount.id);
    const again = await admin("POST", "/tenants/import", {
      body: {
        subAccountId: subAccount.id,
        apiKey: subAccount.apiKey,
        identity: { issuer: (await newIdp()).issuer, jwks: i.jwks() },
      },
    });
    expect(again.status).toBe(409);
  });

  it("keeps an audit log of who did what to which tenant", async () => {
    const { tenant } = await createTenant();
    await admin("PATCH", `/tenants/${tenant.id}`, {
      body: { name: "Audited" },
      headers: { "x-admin-actor": "jane@reseller.example" },
    });
    await admin("DELETE", `/tenants/${tenant.id}`);
    const res = await admin("GET", `/audit?tenantId=${tenant.id}`);
    expect(res.body.items.map((e: { action: string }) => e.action)).toEqual([
      "tenant.deactivate",
      "tenant.update",
      "tenant.provision.completed",
      "tenant.provision.started",
    ]);
    const update = res.body.items[1];
    expect(update.actor).toMatch(/^admin:[A-Za-z0-9_-]{8} \(jane@reseller\.example\)$/);
    expect(update.detail).toEqual({ fields: ["name"] });
    const page = await admin("GET", "/audit?limit=2");
    expect(page.body.items).toHaveLength(2);
    const next = await admin("GET", `/audit?limit=2&cursor=${page.body.nextCursor}`);
    expect(next.body.items[0].id).toBeLessThan(page.body.items[1].id);
  });
});
