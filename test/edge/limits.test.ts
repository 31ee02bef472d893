import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type BalanceEntry, forgetBalance, readBalance, writeBalance } from "../../src/storage/balance-cache";
import { expectApiError, gatewayClient } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

const main = zavu(MAIN_KEY);
let idp: TestIdp;

beforeAll(async () => {
  await sandbox.reset();
  await sandbox.setTeam({ prices: { sms: 2 } });
});

beforeEach(async () => {
  // A fresh issuer per test, so every test starts with cold caches.
  idp = await TestIdp.create(`https://limits-${crypto.randomUUID()}.example`, "ES256");
});

const upstreamSends = async () =>
  (await sandbox.requests()).filter((r) => r.method === "POST" && r.path === "/v1/messages");
const kvEntry = (tenantId: string) => env.CACHE.get<BalanceEntry>(`bal:${tenantId}`, "json");

describe("customer edge: balance and credit limit from KV", () => {
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
    // The entry was fetched (synchronously, it was absent) with the tenant's own key.
    const refresh = (await sandbox.requests()).find((r) => r.path === "/v1/balance");
    expect(refresh?.subAccountId).toBe(t.subAccountId);
    expect(await kvEntry(t.id)).toMatchObject({ totalSpent: 500, creditLimit: 500, status: "active" });
  });

  it("counts each send's costTotal at once, so the limit bites before the next refresh", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 3 });
    const client = gatewayClient(await idp.token());
    await client.messages.send({ to: "+15551234567" }); // 2 cents
    await client.messages.send({ to: "+15551234567" }); // 4 cents: over, but upstream saw 2 < 3 before it
    await sandbox.clearRequests();
    await expectApiError(client.messages.send({ to: "+15551234567" }), 402, "credit_limit_reached");
    expect(await upstreamSends()).toEqual([]);
    expect((await readBalance(env.CACHE, t.id))?.totalSpent).toBe(4);
  });

  it("refuses with 402 insufficient_balance when the team balance is exhausted", async () => {
    await sandbox.setTeam({ balance: 0 });
    try {
      await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
      await sandbox.clearRequests();
      await expectApiError(
        gatewayClient(await idp.token()).messages.send({ to: "+15551234567" }),
        402,
        "insufficient_balance",
      );
      expect(await upstreamSends()).toEqual([]);
    } finally {
      await sandbox.setTeam({ balance: 1_000_000 });
    }
  });

  it("marks the cache exhausted when upstream answers 402, and refuses the next send locally", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 100 });
    const client = gatewayClient(await idp.token());
    await client.balance.retrieve(); // caches totalSpent 0
    await sandbox.setTotalSpent(t.subAccountId, 100); // spent elsewhere; the cache does not know yet
    await expectApiError(client.messages.send({ to: "+15551234567" }), 402, "credit_limit_reached"); // upstream's 402
    await sandbox.clearRequests();
    await expectApiError(client.messages.send({ to: "+15551234567" }), 402, "credit_limit_reached");
    expect(await upstreamSends()).toEqual([]);
    expect((await kvEntry(t.id))?.exhausted).toBe("credit_limit_reached");
  });

  it("answers GET /v1/balance from upstream and refreshes the cache with it", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 1000 });
    const client = gatewayClient(await idp.token());
    await client.balance.retrieve();
    await sandbox.setTotalSpent(t.subAccountId, 321);
    const balance = await client.balance.retrieve();
    expect(balance.totalSpent).toBe(321);
    await new Promise((r) => setTimeout(r, 50)); // the cache update runs after the response
    forgetBalance(t.id);
    expect((await kvEntry(t.id))?.totalSpent).toBe(321);
  });

  it("refreshes a stale entry in the background while it answers", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 1000 });
    await writeBalance(env.CACHE, t.id, {
      status: "active",
      balance: 5000,
      totalSpent: 1000,
      creditLimit: 1000,
      fetchedAt: Date.now() - 60_000,
    });
    // Stale and at the limit: refused now, from the cache ...
    await expectApiError(
      gatewayClient(await idp.token()).messages.send({ to: "+15551234567" }),
      402,
      "credit_limit_reached",
    );
    await new Promise((r) => setTimeout(r, 100));
    // ... and corrected by the background refresh (upstream says 0 spent).
    expect(await readBalance(env.CACHE, t.id)).toMatchObject({ totalSpent: 0 });
    expect((await gatewayClient(await idp.token()).messages.send({ to: "+15551234567" })).message.status).toBe(
      "queued",
    );
  });
});

describe("customer edge: suspension and deactivation", () => {
  async function setStatus(tenantId: string, status: BalanceEntry["status"]) {
    const entry = (await readBalance(env.CACHE, tenantId))!;
    await writeBalance(env.CACHE, tenantId, { ...entry, status });
  }

  it("a suspended tenant gets 403 tenant_suspended on messaging routes, its balance stays readable", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
    const client = gatewayClient(await idp.token());
    const sent = await client.messages.send({ to: "+15551234567" });
    await setStatus(t.id, "inactive");
    await sandbox.clearRequests();
    await expectApiError(client.messages.send({ to: "+15551234567" }), 403, "tenant_suspended");
    await expectApiError(client.messages.list(), 403, "tenant_suspended");
    await expectApiError(client.messages.retrieve(sent.message.id), 403, "tenant_suspended");
    expect((await sandbox.requests()).filter((r) => r.path.startsWith("/v1/messages"))).toEqual([]);
    expect((await client.balance.retrieve()).isSubAccount).toBe(true);
    await setStatus(t.id, "active");
    expect((await client.messages.send({ to: "+15551234567" })).message.status).toBe("queued");
  });

  it("picks up a suspension made in another isolate within the status-epoch poll", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
    const client = gatewayClient(await idp.token());
    await client.messages.send({ to: "+15551234567" }); // this isolate now holds the entry as active
    // Another isolate's admin call: the tenant's entry and the epoch, written straight to KV.
    const stored = (await kvEntry(t.id))!;
    await env.CACHE.put(`bal:${t.id}`, JSON.stringify({ ...stored, status: "inactive", fetchedAt: Date.now() }));
    await env.CACHE.put("status-epoch", String(Date.now() + 1));
    expect((await client.messages.send({ to: "+15551234567" })).message.status).toBe("queued"); // not polled yet
    vi.useFakeTimers({ now: Date.now() + 6_000, toFake: ["Date"] });
    await client.balance.retrieve(); // due: the epoch is re-read in the background
    await new Promise((r) => setTimeout(r, 50));
    await expectApiError(client.messages.send({ to: "+15551234567" }), 403, "tenant_suspended");
  });

  it("a deactivated tenant gets 403 tenant_deactivated on every route", async () => {
    const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
    const client = gatewayClient(await idp.token());
    await client.balance.retrieve();
    await setStatus(t.id, "deactivated");
    await expectApiError(client.messages.send({ to: "+15551234567" }), 403, "tenant_deactivated");
    await expectApiError(client.balance.retrieve(), 403, "tenant_deactivated");
  });
});

afterEach(() => {
  vi.useRealTimers();
});

void main;
