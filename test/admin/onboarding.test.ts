import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, createTenant, newIdp, tenantBody } from "../helpers/admin";
import { gatewayClient } from "../helpers/gateway";
import { publishJwks } from "../helpers/idp";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";

const main = zavu(MAIN_KEY);

beforeAll(async () => {
  await sandbox.reset();
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
    const upstream = (await main.subAccounts.retrieve(tenant.subAccountId!)).subAccount;
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
