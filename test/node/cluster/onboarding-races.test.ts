import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { admin, type Cluster, sandboxControl, send, sleep, startCluster, zavu } from "../harness/cluster";
import { NodeIdp } from "../harness/idp";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ isolates: 3 });
});
afterAll(() => cluster?.stop());
beforeEach(async () => {
  await sandboxControl(cluster, "DELETE", "/faults");
});

const g0 = () => cluster.gateways[0]!;
const g1 = () => cluster.gateways[1]!;
const g2 = () => cluster.gateways[2]!;

async function subAccountsFor(tenantId: string) {
  const all = [];
  for await (const s of zavu(cluster).subAccounts.list()) if (s.externalId === tenantId) all.push(s);
  return all;
}

async function liveKeys(subAccountId: string) {
  return (await zavu(cluster).subAccounts.apiKeys.list(subAccountId)).items.filter((k) => !k.revokedAt);
}

/** One sub-account, one live key, and the tenant's JWTs reach it through an isolate that did not create it. */
async function expectSoundTenant(tenantId: string, idp: NodeIdp) {
  const subs = await subAccountsFor(tenantId);
  expect(subs).toHaveLength(1);
  expect(await liveKeys(subs[0]!.id)).toHaveLength(1);
  expect((await send(g2(), await idp.token())).status).toBe(202);
}

describe("onboarding that cannot double-provision, across isolates", () => {
  it("two creates with one Idempotency-Key at the same moment: one runs, the other gets 409, then the first result", async () => {
    const idp = await NodeIdp.create();
    // Zavu is slow to create, so the retry arrives (in another isolate) while the first run is still going.
    await sandboxControl(cluster, "POST", "/faults", {
      method: "POST",
      path: "/v1/sub-accounts",
      latencyMs: 1_500,
      count: 1,
    });
    const body = { name: "Racer", identity: { issuer: idp.issuer, jwks: idp.jwks() } };
    const [first, second] = await Promise.all([
      admin(g0(), "POST", "/tenants", { body, idempotencyKey: "race-1" }),
      sleep(200).then(() => admin(g1(), "POST", "/tenants", { body, idempotencyKey: "race-1" })),
    ]);
    expect([first.status, second.status]).toEqual([201, 409]);
    expect(second.body.code).toBe("idempotency_in_progress");
    const replay = await admin(g1(), "POST", "/tenants", { body, idempotencyKey: "race-1" });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.tenant.id).toBe(first.body.tenant.id);
    await expectSoundTenant(first.body.tenant.id, idp);
  });

  it("a repair while the create is still running is refused with 409 operation_in_progress", async () => {
    const idp = await NodeIdp.create();
    await sandboxControl(cluster, "POST", "/faults", {
      method: "POST",
      path: "/v1/sub-accounts",
      latencyMs: 1_500,
      count: 1,
    });
    const creating = admin(g0(), "POST", "/tenants", {
      body: { name: "Slow", identity: { issuer: idp.issuer, jwks: idp.jwks() } },
    });
    await sleep(400);
    const pending = (await admin(g1(), "GET", "/tenants?status=provisioning")).body.items;
    expect(pending).toHaveLength(1);
    const repair = await admin(g1(), "POST", `/tenants/${pending[0].id}/repair`);
    expect([repair.status, repair.body.code]).toEqual([409, "operation_in_progress"]);
    const created = await creating;
    expect(created.status).toBe(201);
    await expectSoundTenant(created.body.tenant.id, idp);
  });

  it("two registrations racing on one issuer, one with a claim and one without: exactly one wins", async () => {
    for (let round = 0; round < 4; round++) {
      const idp = await NodeIdp.create();
      const results = await Promise.all([
        admin(g0(), "POST", "/tenants", {
          body: { name: "No claim", identity: { issuer: idp.issuer, jwks: idp.jwks() } },
        }),
        admin(g1(), "POST", "/tenants", {
          body: {
            name: "Claim",
            identity: { issuer: idp.issuer, jwks: idp.jwks(), claim: { name: "org_id", value: "b" } },
          },
        }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const rows = (await admin(g2(), "GET", "/tenants?limit=100")).body.items.filter(
        (t: { identity: { issuer: string } }) => t.identity.issuer === idp.issuer,
      );
      expect(rows).toHaveLength(1);
    }
  });
});

describe("failures that are not Zavu's leave nothing unheld", () => {
  /** Makes D1 refuse to store a sealed key for tenants with this name (a real database failure). */
  async function failKeyWrites(name: string) {
    const db = await cluster.mf.getD1Database("DB", "gateway-0");
    await db.exec(
      `CREATE TRIGGER fail_key_writes BEFORE UPDATE OF key_ciphertext ON tenants WHEN NEW.name = '${name}' BEGIN SELECT RAISE(ABORT, 'injected storage failure'); END;`,
    );
    return () => db.exec("DROP TRIGGER fail_key_writes");
  }

  it("D1 fails after Zavu returned the key: 503 with the tenant id, the key revoked, the retry completes", async () => {
    const idp = await NodeIdp.create();
    const restore = await failKeyWrites("Storage fails");
    const body = { name: "Storage fails", identity: { issuer: idp.issuer, jwks: idp.jwks() } };
    const first = await admin(g0(), "POST", "/tenants", { body, idempotencyKey: "store-1" });
    expect([first.status, first.body.code]).toEqual([503, "provisioning_incomplete"]);
    const tenantId = first.body.details.tenantId;
    const [sub] = await subAccountsFor(tenantId);
    expect(await liveKeys(sub!.id)).toEqual([]); // the key nobody could hold was revoked at once
    await restore();
    const retry = await admin(g1(), "POST", "/tenants", { body, idempotencyKey: "store-1" });
    expect(retry.status).toBe(201);
    expect(retry.body.tenant.id).toBe(tenantId);
    await expectSoundTenant(tenantId, idp);
  });

  it("rotate-key fails to store the new key: 503 with the tenant id, the new key revoked, the old one still works", async () => {
    const idp = await NodeIdp.create();
    const created = await admin(g0(), "POST", "/tenants", {
      body: { name: "Rotation fails", identity: { issuer: idp.issuer, jwks: idp.jwks() } },
    });
    const { id, subAccountId } = created.body.tenant;
    const restore = await failKeyWrites("Rotation fails");
    const rotate = await admin(g1(), "POST", `/tenants/${id}/rotate-key`);
    await restore();
    expect([rotate.status, rotate.body.code, rotate.body.details?.tenantId]).toEqual([
      503,
      "key_rotation_incomplete",
      id,
    ]);
    const live = await liveKeys(subAccountId);
    expect(live.map((k) => k.keyPrefix)).toEqual([created.body.tenant.keyPrefix]); // only the old key is live
    expect((await send(g2(), await idp.token())).status).toBe(202);
  });
});
