import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { admin, tenantBody } from "../helpers/admin";
import { gatewayClient } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";

const main = zavu(MAIN_KEY);
let idp: TestIdp;

beforeEach(async () => {
  await sandbox.reset();
  idp = await TestIdp.create(`https://${crypto.randomUUID()}.prov.example`, "ES256");
});

const body = () => tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }, { externalId: `ext-${idp.issuer}` });

async function tenantRows() {
  const { results } = await env.DB.prepare("SELECT id, status FROM tenants WHERE external_id = ?")
    .bind(`ext-${idp.issuer}`)
    .all<{ id: string; status: string }>();
  return results;
}

async function upstreamSubAccounts() {
  const all = [];
  for await (const s of main.subAccounts.list()) all.push(s);
  return all;
}

async function auditActions(tenantId: string) {
  return (await admin("GET", `/audit?tenantId=${tenantId}&limit=50`)).body.items
    .map((e: { action: string }) => e.action)
    .reverse();
}

/** The tenant works end to end: its JWT reaches Zavu as its sub-account with the stored key. */
async function expectWorking(tenant: { id: string; subAccountId: string; status: string }) {
  expect(tenant.status).toBe("active");
  await sandbox.clearRequests();
  const { message } = await gatewayClient(await idp.token()).messages.send({ to: "+15551234567" });
  expect(message.status).toBe("queued");
  const [send] = (await sandbox.requests()).filter((r) => r.method === "POST");
  expect(send?.subAccountId).toBe(tenant.subAccountId);
  const live = (await main.subAccounts.apiKeys.list(tenant.subAccountId)).items.filter((k) => !k.revokedAt);
  expect(live.map((k) => k.id)).toEqual([send!.keyId]); // exactly one live key: the one the gateway holds
}

describe("crash-safe provisioning", () => {
  it("upstream create fails before anything exists: no tenant, no sub-account, the audit log says why", async () => {
    await sandbox.fault({ method: "POST", path: "/v1/sub-accounts", status: 500, count: 1 });
    const res = await admin("POST", "/tenants", { body: body() });
    expect([res.status, res.body.code]).toEqual([502, "upstream_error"]);
    expect(await tenantRows()).toEqual([]);
    expect(await upstreamSubAccounts()).toEqual([]);
    const failed = (await admin("GET", "/audit?limit=5")).body.items[0];
    expect(failed).toMatchObject({
      action: "tenant.provision.failed",
      detail: { step: "create-sub-account", upstreamStatus: 500 },
    });
  });

  it("upstream refuses the create (4xx): no tenant is kept", async () => {
    await sandbox.fault({ method: "POST", path: "/v1/sub-accounts", status: 400, code: "invalid_request", count: 1 });
    const res = await admin("POST", "/tenants", { body: body() });
    expect(res.status).toBe(502);
    expect(res.body.message).toMatch(/invalid_request/);
    expect(await tenantRows()).toEqual([]);
  });

  it("create succeeds but its response is lost: found by externalId, a fresh key issued, the lost one revoked", async () => {
    await sandbox.fault({ method: "POST", path: "/v1/sub-accounts", status: 502, count: 1, afterEffect: true });
    const res = await admin("POST", "/tenants", { body: body() });
    expect(res.status, res.text).toBe(201);
    const tenant = res.body.tenant;
    const subs = await upstreamSubAccounts();
    expect(subs.map((s) => s.externalId)).toEqual([tenant.id]); // no orphan, no duplicate
    const keys = (await main.subAccounts.apiKeys.list(tenant.subAccountId)).items;
    expect(keys).toHaveLength(2);
    expect(keys.filter((k) => k.revokedAt)).toHaveLength(1); // the key from the lost reply
    await expectWorking(tenant);
    const completed = (await admin("GET", `/audit?tenantId=${tenant.id}`)).body.items[0];
    expect(completed).toMatchObject({
      action: "tenant.provision.completed",
      detail: { freshKeyIssued: true, unknownKeysRevoked: 1 },
    });
  });

  it("key storage fails after the create: 503 with the tenant id, and the retry with the same Idempotency-Key completes it", async () => {
    await sandbox.fault({ method: "GET", path: "/v1/sub-accounts/*/api-keys", status: 503, count: 1 });
    const first = await admin("POST", "/tenants", { body: body(), idempotencyKey: "prov-1" });
    expect([first.status, first.body.code]).toEqual([503, "provisioning_incomplete"]);
    const tenantId = first.body.details.tenantId;
    expect(await tenantRows()).toEqual([{ id: tenantId, status: "provisioning" }]);
    // The edge refuses a half-made tenant rather than guessing.
    const early = await gatewayClient(await idp.token())
      .balance.retrieve()
      .catch((e) => e);
    expect(early.status).toBe(403);

    const retry = await admin("POST", "/tenants", { body: body(), idempotencyKey: "prov-1" });
    expect(retry.status, retry.text).toBe(201);
    expect(retry.body.tenant.id).toBe(tenantId);
    expect((await upstreamSubAccounts()).map((s) => s.externalId)).toEqual([tenantId]);
    await expectWorking(retry.body.tenant);
    expect(await auditActions(tenantId)).toEqual([
      "tenant.provision.started",
      "tenant.provision.interrupted",
      "tenant.provision.repaired",
    ]);
    const replay = await admin("POST", "/tenants", { body: body(), idempotencyKey: "prov-1" });
    expect(replay.body.tenant.id).toBe(tenantId);
  });

  it("reply lost and the lookup fails too: the tenant waits as provisioning, POST /repair finishes it", async () => {
    await sandbox.fault({ method: "POST", path: "/v1/sub-accounts", status: 504, count: 1, afterEffect: true });
    await sandbox.fault({ method: "GET", path: "/v1/sub-accounts", status: 503, count: 1 });
    const first = await admin("POST", "/tenants", { body: body() });
    expect([first.status, first.body.code]).toEqual([503, "provisioning_incomplete"]);
    const tenantId = first.body.details.tenantId;
    expect(await tenantRows()).toEqual([{ id: tenantId, status: "provisioning" }]);
    expect((await admin("GET", `/tenants/${tenantId}`)).body.tenant.status).toBe("provisioning");
    expect((await admin("POST", `/tenants/${tenantId}/rotate-key`)).status).toBe(409);

    const repaired = await admin("POST", `/tenants/${tenantId}/repair`);
    expect(repaired.status, repaired.text).toBe(200);
    expect((await upstreamSubAccounts()).map((s) => s.externalId)).toEqual([tenantId]);
    await expectWorking(repaired.body.tenant);
    expect(await auditActions(tenantId)).toEqual([
      "tenant.provision.started",
      "tenant.provision.interrupted",
      "tenant.provision.repaired",
    ]);
    // Repairing an active tenant changes nothing.
    expect((await admin("POST", `/tenants/${tenantId}/repair`)).body.tenant.status).toBe("active");
  });

  it("repair of a tenant whose sub-account was never created creates it", async () => {
    await sandbox.fault({ method: "POST", path: "/v1/sub-accounts", status: 503, count: 1 });
    await sandbox.fault({ method: "GET", path: "/v1/sub-accounts", status: 503, count: 1 });
    const first = await admin("POST", "/tenants", { body: body() });
    expect(first.status).toBe(503);
    const tenantId = first.body.details.tenantId;
    expect(await upstreamSubAccounts()).toEqual([]);
    const repaired = await admin("POST", `/tenants/${tenantId}/repair`);
    expect(repaired.status, repaired.text).toBe(200);
    await expectWorking(repaired.body.tenant);
  });
});
