import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { expectApiError, gatewayClient, newIsolate } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

let idp: TestIdp;

beforeAll(async () => {
  await sandbox.reset();
  await sandbox.setTeam({ prices: { sms: 2 } });
});

beforeEach(async () => {
  idp = await TestIdp.create(`https://limits-${crypto.randomUUID()}.example`, "ES256");
});

const upstreamSends = async () =>
  (await sandbox.requests()).filter((r) => r.method === "POST" && r.path === "/v1/messages");

describe("customer edge: credit limits and the team balance, through the spend ledgers", () => {
  it("refuses a tenant already at its limit with 402 credit_limit_reached, without a send upstream", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 500 });
    await sandbox.setTotalSpent(t.subAccountId, 500);
    await sandbox.clearRequests();
    await expectApiError(
      gatewayClient(await idp.token()).messages.send({ to: "+15551234567" }),
      402,
      "credit_limit_reached",
    );
    expect(await upstreamSends()).toEqual([]);
    // The ledger asked Zavu with the main key (never the tenant's), for this sub-account.
    const refresh = (await sandbox.requests()).find((r) => r.path === `/v1/sub-accounts/${t.subAccountId}/balance`);
    expect(refresh?.keyId).toBe("main");
  });

  it("counts each send's exact cost near the limit, so the limit bites before Zavu's", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 3 });
    await sandbox.setTeam({ enforceLimits: false }); // only the gateway stands between the tenant and its limit
    try {
      const client = gatewayClient(await idp.token());
      await client.messages.send({ to: "+15551234567" }); // 2 cents
      await client.messages.send({ to: "+15551234567" }); // 4 cents: allowed, spend was 2 < 3 when it started
      await sandbox.clearRequests();
      await expectApiError(client.messages.send({ to: "+15551234567" }), 402, "credit_limit_reached");
      expect(await upstreamSends()).toEqual([]);
      const { subAccount } = await zavu(MAIN_KEY).subAccounts.retrieve(t.subAccountId);
      expect(subAccount.totalSpent).toBe(4);
    } finally {
      await sandbox.setTeam({ enforceLimits: true });
    }
  });

  it("refuses with 402 insufficient_balance when the team balance is exhausted", async () => {
    await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
    await sandbox.setTeam({ balance: 0 });
    try {
      const team = (await admin("GET", "/team")).body;
      expect(team.balance).toBe(0);
      expect(team.ledger.available).toBeLessThanOrEqual(0); // minus the leases isolates still hold
      await sandbox.clearRequests();
      // An isolate that holds no lease on the team balance yet (one that does spends it first).
      const fresh = newIsolate();
      await expectApiError(
        fresh.client(await idp.token()).messages.send({ to: "+15551234567" }),
        402,
        "insufficient_balance",
      );
      expect(await upstreamSends()).toEqual([]);
    } finally {
      await sandbox.setTeam({ balance: 1_000_000 });
      await admin("GET", "/team");
    }
  });

  it("remembers Zavu's own 402 and refuses the next send without asking Zavu", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 100 });
    const client = gatewayClient(await idp.token());
    await client.messages.send({ to: "+15551234567" }); // the ledger now knows 2 of 100 are spent
    await sandbox.setTotalSpent(t.subAccountId, 100); // spent elsewhere: the ledger does not know yet
    await expectApiError(client.messages.send({ to: "+15551234567" }), 402, "credit_limit_reached"); // Zavu's 402
    await sandbox.clearRequests();
    await expectApiError(client.messages.send({ to: "+15551234567" }), 402, "credit_limit_reached");
    expect(await upstreamSends()).toEqual([]);
  });

  it("a raised limit applies at once", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 10 });
    await sandbox.setTotalSpent(t.subAccountId, 10);
    const client = gatewayClient(await idp.token());
    await expectApiError(client.messages.send({ to: "+15551234567" }), 402, "credit_limit_reached");
    expect((await admin("PATCH", `/tenants/${t.id}`, { body: { creditLimit: 1000 } })).status).toBe(200);
    expect((await client.messages.send({ to: "+15551234567" })).message.status).toBe("queued");
  });
});

describe("customer edge: suspension and deactivation", () => {
  it("a suspended tenant gets 403 tenant_suspended on messaging routes; its balance stays readable; reactivation is immediate", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
    const client = gatewayClient(await idp.token());
    const sent = await client.messages.send({ to: "+15551234567" });
    expect((await admin("PATCH", `/tenants/${t.id}`, { body: { status: "inactive" } })).status).toBe(200);
    await sandbox.clearRequests();
    await expectApiError(client.messages.send({ to: "+15551234567" }), 403, "tenant_suspended");
    await expectApiError(client.messages.list(), 403, "tenant_suspended");
    await expectApiError(client.messages.retrieve(sent.message.id), 403, "tenant_suspended");
    expect((await sandbox.requests()).filter((r) => r.path.startsWith("/v1/messages"))).toEqual([]);
    expect((await client.balance.retrieve()).isSubAccount).toBe(true);
    expect((await admin("PATCH", `/tenants/${t.id}`, { body: { status: "active" } })).status).toBe(200);
    expect((await client.messages.send({ to: "+15551234567" })).message.status).toBe("queued");
  });

  it("a deactivated tenant's tokens are refused on every route: its identity names no tenant any more", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
    const client = gatewayClient(await idp.token());
    await client.balance.retrieve();
    expect((await admin("DELETE", `/tenants/${t.id}`)).status).toBe(200);
    await expectApiError(client.messages.send({ to: "+15551234567" }), 401, "unauthorized");
    await expectApiError(client.balance.retrieve(), 401, "unauthorized");
  });
});
