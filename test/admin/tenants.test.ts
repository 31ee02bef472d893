import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, createTenant, newIdp } from "../helpers/admin";
import { expectApiError, gatewayClient } from "../helpers/gateway";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";

const main = zavu(MAIN_KEY);

beforeAll(async () => {
  await sandbox.reset();
});

describe("admin: reading tenants", () => {
  it("lists with keyset pagination and filters by status and externalId", async () => {
    const made = [];
    for (let n = 0; n < 3; n++) made.push((await createTenant({ externalId: `page-${n}` })).tenant);
    await admin("PATCH", `/tenants/${made[1]!.id}`, { body: { status: "inactive" } });
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
    expect(inactive.body.items.map((t: { id: string }) => t.id)).toContain(made[1]!.id);
    expect(inactive.body.items.every((t: { status: string }) => t.status === "inactive")).toBe(true);
    const byExt = await admin("GET", "/tenants?externalId=page-2");
    expect(byExt.body.items.map((t: { id: string }) => t.id)).toEqual([made[2]!.id]);
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
    expect((await main.subAccounts.retrieve(tenant.subAccountId!)).subAccount).toMatchObject({
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
    const keys = (await main.subAccounts.apiKeys.list(tenant.subAccountId!)).items;
    expect(keys.filter((k) => !k.revokedAt).map((k) => k.id)).toEqual([rotated.body.keyId]);
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.keyPrefix).toBe(rotated.body.keyPrefix);
  });

  it("DELETE deactivates upstream, erases the ciphertext, gives the identity back, keeps the record; the edge refuses at once", async () => {
    const { tenant, idp } = await createTenant();
    const client = gatewayClient(await idp.token());
    await client.balance.retrieve();
    const res = await admin("DELETE", `/tenants/${tenant.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tenant: { id: tenant.id, status: "deactivated" }, keysRevoked: 1 });
    const row = await env.DB.prepare("SELECT status, key_ciphertext FROM tenants WHERE id = ?").bind(tenant.id).first();
    expect(row).toEqual({ status: "deactivated", key_ciphertext: null });
    expect(res.body.tenant.identity).toBeNull();
    const held = await env.DB.prepare("SELECT issuer, tenant_id FROM identity_releases WHERE tenant_id = ?")
      .bind(tenant.id)
      .all();
    expect(held.results).toEqual([{ issuer: tenant.identity!.issuer, tenant_id: tenant.id }]);
    // Its tokens name no tenant any more (the identity is free to be registered again after the hold).
    await expectApiError(client.balance.retrieve(), 401, "unauthorized");
    await expectApiError(client.messages.send({ to: "+15551234567" }), 401, "unauthorized");
    expect((await admin("DELETE", `/tenants/${tenant.id}`)).body.keysRevoked).toBe(0);
    expect((await admin("PATCH", `/tenants/${tenant.id}`, { body: { name: "x" } })).status).toBe(409);
    expect((await admin("POST", `/tenants/${tenant.id}/rotate-key`)).status).toBe(409);
  });

  it("a deactivation and an identity replacement of one tenant never interleave: the second waits its turn (409)", async () => {
    const { tenant } = await createTenant();
    const other = await newIdp();
    // Zavu answers the deactivation slowly; meanwhile the identity is asked to change.
    await sandbox.fault({
      path: `/v1/sub-accounts/${tenant.subAccountId}`,
      method: "DELETE",
      latencyMs: 800,
      count: 1,
    });
    const deactivating = admin("DELETE", `/tenants/${tenant.id}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const replaced = await admin("PUT", `/tenants/${tenant.id}/identity`, {
      body: { issuer: other.issuer, jwks: other.jwks() },
    });
    expect({ status: replaced.status, code: replaced.body.code }, replaced.text).toEqual({
      status: 409,
      code: "operation_in_progress",
    });
    expect((await deactivating).status).toBe(200);
    await sandbox.clearFaults();
    // What was released is the identity D1 held, and it is held: the new issuer was never registered.
    const releases = await env.DB.prepare("SELECT issuer FROM identity_releases WHERE tenant_id = ?")
      .bind(tenant.id)
      .all<{ issuer: string }>();
    expect(releases.results.map((r) => r.issuer)).toEqual([tenant.identity!.issuer]);
    const holders = await env.DB.prepare("SELECT COUNT(*) AS n FROM tenant_identities WHERE issuer IN (?, ?)")
      .bind(tenant.identity!.issuer, other.issuer)
      .first<{ n: number }>();
    expect(holders!.n).toBe(0);
    // Once it is deactivated, a replacement is refused for what it is.
    const late = await admin("PUT", `/tenants/${tenant.id}/identity`, {
      body: { issuer: other.issuer, jwks: other.jwks() },
    });
    expect({ status: late.status, code: late.body.code }).toEqual({ status: 409, code: "invalid_state" });
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
