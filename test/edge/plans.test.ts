import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { clock, gatewayFetch, state } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";

/** A tenant made through the admin API, with its plan, and a token of its own. */
async function tenantWith(plan: Record<string, number | null> | undefined, extra: Record<string, unknown> = {}) {
  const idp = await TestIdp.create(`https://plans-${crypto.randomUUID()}.example`, "ES256");
  const res = await admin("POST", "/tenants", {
    body: {
      name: "Plan test",
      identity: { issuer: idp.issuer, jwks: idp.jwks() },
      ...(plan ? { plan } : {}),
      ...extra,
    },
  });
  expect(res.status, res.text).toBe(201);
  return { tenant: res.body.tenant, token: await idp.token() };
}

async function send(token: string, body: Record<string, unknown> = { to: "+15551234567", text: "hi" }) {
  const res = await gatewayFetch("/v1/messages", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { res, body: (await res.json()) as { code?: string; message?: unknown } };
}

async function balance(token: string) {
  const res = await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

const upstreamSends = async (subAccountId: string) =>
  (await sandbox.requests()).filter(
    (r) => r.method === "POST" && r.path === "/v1/messages" && r.subAccountId === subAccountId,
  ).length;

/** The Rate Limiting binding counts in windows aligned to the clock: start a burst early in one. */
async function freshWindow(seconds: number, need: number) {
  const into = Date.now() % (seconds * 1000);
  if (into > seconds * 1000 - need) await new Promise((r) => setTimeout(r, seconds * 1000 - into + 50));
}

beforeAll(async () => {
  await sandbox.reset();
});

describe("plans on the admin API", () => {
  it("a tenant gets the plan it is given, the deployment's defaults for the rest (unlimited here), and PATCH changes one limit", async () => {
    const { tenant } = await tenantWith({ sendsPerMinute: 100 });
    expect(tenant.plan).toEqual({ requestsPerSecond: null, sendsPerMinute: 100, dailySends: null });
    const patched = await admin("PATCH", `/tenants/${tenant.id}`, { body: { plan: { dailySends: 5000 } } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.tenant.plan).toEqual({ requestsPerSecond: null, sendsPerMinute: 100, dailySends: 5000 });
    const unlimited = await admin("PATCH", `/tenants/${tenant.id}`, { body: { plan: { sendsPerMinute: null } } });
    expect(unlimited.body.tenant.plan).toEqual({ requestsPerSecond: null, sendsPerMinute: null, dailySends: 5000 });
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.plan).toEqual(unlimited.body.tenant.plan);
  });

  it("refuses values the Rate Limiting bindings do not have, with the ones they do", async () => {
    const idp = await TestIdp.create("https://plans-bad.example", "ES256");
    for (const plan of [
      { requestsPerSecond: 3 },
      { sendsPerMinute: 0 },
      { dailySends: -1 },
      { dailySends: 1.5 },
      { burst: 1 },
    ]) {
      const res = await admin("POST", "/tenants", {
        body: { name: "Bad plan", identity: { issuer: idp.issuer, jwks: idp.jwks() }, plan },
      });
      expect(res.status, JSON.stringify(plan)).toBe(400);
      expect(res.body.code).toBe("invalid_request");
    }
    const res = await admin("POST", "/tenants", {
      body: { name: "Bad plan", identity: { issuer: idp.issuer, jwks: idp.jwks() }, plan: { requestsPerSecond: 3 } },
    });
    expect(res.body.message).toContain("1, 2, 5, 10, 20, 50, 100, 200, 500, 1000");
  });
});

describe("rate limits (the Workers Rate Limiting binding, in workerd)", () => {
  it("refuses a tenant over requestsPerSecond with 429 rate_limited, Retry-After and RateLimit headers, and no upstream call; another tenant is unaffected", async () => {
    const limited = await tenantWith({ requestsPerSecond: 1 }); // 10 requests per 10 s window
    const other = await tenantWith({ requestsPerSecond: 1 });
    await freshWindow(10, 5_000);
    await sandbox.clearRequests();
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof send>> | null = null;
    for (let i = 0; i < 12; i++) {
      const r = await send(limited.token);
      statuses.push(r.res.status);
      if (r.res.status === 429) refused = r;
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429]);
    expect(refused!.body.code).toBe("rate_limited");
    const retryAfter = Number(refused!.res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(refused!.res.headers.get("ratelimit-policy")).toBe('"requests";q=10;w=10');
    expect(refused!.res.headers.get("ratelimit")).toBe(`"requests";r=0;t=${retryAfter}`);
    expect(await upstreamSends(limited.tenant.subAccountId)).toBe(10);
    // Another tenant of the same plan has a counter of its own.
    expect((await send(other.token)).res.status).toBe(202);
  });

  it("a refusal stands in the isolate until its window ends: no binding call for the next ones", async () => {
    const limited = await tenantWith({ requestsPerSecond: 1 });
    await freshWindow(10, 5_000);
    for (let i = 0; i < 11; i++) await send(limited.token);
    const before = state.counters.rateLimitChecks;
    expect((await send(limited.token)).res.status).toBe(429);
    expect(state.counters.rateLimitChecks).toBe(before);
  });

  it("sends count against sendsPerMinute, and never starve the tenant's balance reads", async () => {
    const limited = await tenantWith({ sendsPerMinute: 10, requestsPerSecond: 1 });
    await freshWindow(60, 15_000);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await send(limited.token)).res.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(10);
    const refused = await send(limited.token);
    expect(refused.res.status).toBe(429);
    expect(refused.res.headers.get("ratelimit-policy")).toBe('"sends";q=10;w=60');
    // Twelve sends in this window, and the balance still reads: it has its own bucket of requestsPerSecond.
    for (let i = 0; i < 5; i++) expect(await balance(limited.token)).toBe(200);
  });
});

describe("daily quota (exact: a spend ledger counted in sends)", () => {
  it("refuses the send after dailySends with 429 daily_quota_exceeded until midnight UTC, without an upstream call", async () => {
    const limited = await tenantWith({ dailySends: 3 });
    const other = await tenantWith({ dailySends: 3 });
    await sandbox.clearRequests();
    for (let i = 0; i < 3; i++) expect((await send(limited.token)).res.status).toBe(202);
    const refused = await send(limited.token);
    expect(refused.res.status).toBe(429);
    expect(refused.body.code).toBe("daily_quota_exceeded");
    const untilMidnight = Math.ceil((86_400_000 - (state.clock.now() % 86_400_000)) / 1000);
    expect(Math.abs(Number(refused.res.headers.get("retry-after")) - untilMidnight)).toBeLessThanOrEqual(2);
    expect(refused.res.headers.get("ratelimit-policy")).toBe('"daily-sends";q=3;w=86400');
    expect(await upstreamSends(limited.tenant.subAccountId)).toBe(3);
    expect(await balance(limited.token)).toBe(200); // reads are not sends
    expect((await send(other.token)).res.status).toBe(202);
  });

  it("a send Zavu refuses does not use the quota; a raised quota applies at once", async () => {
    const limited = await tenantWith({ dailySends: 2 });
    // Zavu's validation refuses the first (400): nothing was sent, so it does not count.
    expect((await send(limited.token, { to: "not a number", channel: "sms" })).res.status).toBe(400);
    expect((await send(limited.token)).res.status).toBe(202);
    expect((await send(limited.token)).res.status).toBe(202);
    expect((await send(limited.token)).res.status).toBe(429);
    expect((await admin("PATCH", `/tenants/${limited.tenant.id}`, { body: { plan: { dailySends: 3 } } })).status).toBe(
      200,
    );
    expect((await send(limited.token)).res.status).toBe(202);
    expect((await send(limited.token)).body.code).toBe("daily_quota_exceeded");
  });

  it("a quota set in the middle of a day counts that day's earlier sends: 6 sent, then dailySends 8, the 9th is refused", async () => {
    const tenant = await tenantWith(undefined);
    for (let i = 0; i < 6; i++) expect((await send(tenant.token)).res.status).toBe(202);
    const patched = await admin("PATCH", `/tenants/${tenant.tenant.id}`, { body: { plan: { dailySends: 8 } } });
    expect(patched.status, patched.text).toBe(200);
    const after: Array<string | number> = [];
    for (let i = 0; i < 4; i++) {
      const r = await send(tenant.token);
      after.push(r.res.status === 202 ? 202 : (r.body.code ?? r.res.status));
    }
    expect(after).toEqual([202, 202, "daily_quota_exceeded", "daily_quota_exceeded"]);
    expect(await upstreamSends(tenant.tenant.subAccountId)).toBe(8);
  });

  it("a quota removed and set back to the same value counts the sends made while it was off", async () => {
    const tenant = await tenantWith({ dailySends: 5 });
    for (let i = 0; i < 2; i++) expect((await send(tenant.token)).res.status).toBe(202);
    await admin("PATCH", `/tenants/${tenant.tenant.id}`, { body: { plan: { dailySends: null } } });
    for (let i = 0; i < 6; i++) expect((await send(tenant.token)).res.status).toBe(202);
    await admin("PATCH", `/tenants/${tenant.tenant.id}`, { body: { plan: { dailySends: 5 } } });
    expect((await send(tenant.token)).body.code).toBe("daily_quota_exceeded"); // 8 sent today
  });

  it("a quota removed and set again the same day counts the sends made in between", async () => {
    const tenant = await tenantWith({ dailySends: 5 });
    for (let i = 0; i < 2; i++) expect((await send(tenant.token)).res.status).toBe(202);
    await admin("PATCH", `/tenants/${tenant.tenant.id}`, { body: { plan: { dailySends: null } } });
    for (let i = 0; i < 2; i++) expect((await send(tenant.token)).res.status).toBe(202);
    // 4 sent today: a quota of 6 leaves 2 (its ledger held no lease: the strict zone reserves each send).
    await admin("PATCH", `/tenants/${tenant.tenant.id}`, { body: { plan: { dailySends: 6 } } });
    const after: Array<string | number> = [];
    for (let i = 0; i < 3; i++) {
      const r = await send(tenant.token);
      after.push(r.res.status === 202 ? 202 : (r.body.code ?? r.res.status));
    }
    expect(after).toEqual([202, 202, "daily_quota_exceeded"]);
  });
});

describe("Zavu's team limits (429 daily_limit_exceeded, a2p_limit_exceeded)", () => {
  it("passes Zavu's refusal back unchanged, then answers every tenant's sends with it for a while without calling Zavu", async () => {
    const a = await tenantWith(undefined);
    const b = await tenantWith(undefined);
    expect((await send(a.token)).res.status).toBe(202);
    const { today } = await sandbox.team();
    await sandbox.setTeam({ dailyLimit: today.sends });
    try {
      await sandbox.clearRequests();
      const first = await send(a.token);
      expect(first.res.status).toBe(429);
      expect(first.body).toEqual({
        code: "daily_limit_exceeded",
        message: "The team has reached its daily sending limit.",
      });
      const second = await send(b.token); // another tenant: the gateway does not ask Zavu again
      expect(second.res.status).toBe(429);
      expect(second.body).toEqual(first.body);
      expect(Number(second.res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await upstreamSends(b.tenant.subAccountId)).toBe(0);
      expect(await balance(b.token)).toBe(200); // reads go on
      // Briefly: five minutes at most, then one send asks Zavu again.
      clock.advance(5 * 60_000 + 1_000);
      expect((await send(b.token)).res.status).toBe(429);
      expect(await upstreamSends(b.tenant.subAccountId)).toBe(1);
    } finally {
      await sandbox.setTeam({ dailyLimit: null });
      clock.advance(5 * 60_000 + 1_000);
    }
  });

  it("a2p_limit_exceeded (US SMS) the same way: held for every send, as Zavu's Retry-After says (capped at 5 minutes)", async () => {
    const a = await tenantWith(undefined);
    await sandbox.setTeam({ a2pLimit: 0 });
    try {
      const refused = await send(a.token, { to: "+15551234567", channel: "sms" });
      expect([refused.res.status, refused.body.code]).toEqual([429, "a2p_limit_exceeded"]);
      // The gateway does not read a send to learn its channel: a WhatsApp send waits out the hold too.
      const held = await send(a.token, { to: "+5511987654321", channel: "whatsapp" });
      expect([held.res.status, held.body.code]).toEqual([429, "a2p_limit_exceeded"]);
      expect(Number(held.res.headers.get("retry-after"))).toBeLessThanOrEqual(300);
    } finally {
      await sandbox.setTeam({ a2pLimit: null });
      clock.advance(5 * 60_000 + 1_000);
    }
    expect((await send(a.token, { to: "+5511987654321", channel: "whatsapp" })).res.status).toBe(202);
  });
});
