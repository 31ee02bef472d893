import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import gateway from "../../src/index";
import { ADMIN_TOKEN } from "../helpers/admin";
import { clock, expectApiError, gatewayClient, gatewayFetch, newIsolate } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

let idp: TestIdp;
let tenant: Awaited<ReturnType<typeof insertTenant>>;

beforeAll(async () => {
  await sandbox.reset();
  idp = await TestIdp.create("https://failures.example", "ES256");
  tenant = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
  await gatewayClient(await idp.token()).balance.retrieve(); // warm the balance cache
});

const auth = async () => ({ authorization: `Bearer ${await idp.token()}`, "content-type": "application/json" });

describe("customer edge: bodies, upstream failures and timeouts", () => {
  it("refuses a body over MAX_BODY_BYTES with 413, declared or streamed", async () => {
    await sandbox.clearRequests();
    const big = JSON.stringify({ to: "+15551234567", text: "x".repeat(1_100_000) });
    const declared = await gatewayFetch("/v1/messages", { method: "POST", headers: await auth(), body: big });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ code: "payload_too_large" });
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 12; i++) controller.enqueue(new TextEncoder().encode("y".repeat(100_000)));
        controller.close();
      },
    });
    const streamed = await gatewayFetch("/v1/messages", {
      method: "POST",
      headers: await auth(),
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await sandbox.requests()).filter((r) => r.method === "POST")).toEqual([]);
  });

  it("passes a streamed body under the limit through", async () => {
    const body = new TextEncoder().encode(JSON.stringify({ to: "+15551234567", text: "streamed" }));
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(body);
        c.close();
      },
    });
    const res = await gatewayFetch("/v1/messages", {
      method: "POST",
      headers: await auth(),
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(202);
    expect(((await res.json()) as { message: { text: string } }).message.text).toBe("streamed");
  });

  it("returns upstream errors unchanged (status and Zavu's JSON body)", async () => {
    await sandbox.fault({
      path: "/v1/messages",
      method: "POST",
      status: 429,
      code: "daily_limit_exceeded",
      message: "Daily limit",
      count: 1,
    });
    const err = await expectApiError(
      gatewayClient(await idp.token()).messages.send({ to: "+15551234567" }),
      429,
      "daily_limit_exceeded",
    );
    expect(err.message).toContain("Daily limit");
    // A team limit is remembered for a while (test/edge/plans.test.ts): let it lapse for the tests below.
    clock.advance(31_000);
  });

  it("answers 504 upstream_timeout when Zavu is slower than UPSTREAM_TIMEOUT_MS", async () => {
    await sandbox.fault({ path: "/v1/messages", latencyMs: 2500, count: 1 });
    const started = Date.now();
    await expectApiError(gatewayClient(await idp.token()).messages.list(), 504, "upstream_timeout");
    expect(Date.now() - started).toBeLessThan(2400);
  });

  it("answers 502 upstream_unavailable when Zavu cannot be reached", async () => {
    // The same gateway, configured with an upstream whose connections fail.
    const downEnv = { ...env, ZAVU_API_BASE: "http://down.sandbox" };
    const ctx = createExecutionContext();
    const res = await gateway.fetch(
      new Request("https://gateway.test/v1/messages", { headers: await auth() }),
      downEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ code: "upstream_unavailable", message: "Zavu could not be reached." });
  });

  it("forwards routes the reseller adds with EXTRA_ALLOWED_ROUTES, but never /v1/sub-accounts", async () => {
    const widened = { ...env, EXTRA_ALLOWED_ROUTES: "GET /v1/contacts/:id, GET /v1/sub-accounts, nonsense" };
    const call = async (path: string) => {
      const ctx = createExecutionContext();
      const res = await gateway.fetch(
        new Request(`https://gateway.test${path}`, { headers: await auth() }),
        widened,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return { status: res.status, body: (await res.json()) as { code: string } };
    };
    await sandbox.clearRequests();
    // Reaches the sandbox (which has no contacts: its own 404), as this tenant.
    expect(await call("/v1/contacts/c_1")).toEqual({
      status: 404,
      body: expect.objectContaining({ code: "not_found" }),
    });
    const [reached] = await sandbox.requests();
    expect(reached).toMatchObject({ path: "/v1/contacts/c_1", subAccountId: tenant.subAccountId });
    expect((await call("/v1/sub-accounts")).body.code).toBe("route_not_allowed");
    expect((await call("/v1/contacts")).body.code).toBe("route_not_allowed");
    expect((await sandbox.requests()).filter((r) => r.path.startsWith("/v1/sub-accounts"))).toEqual([]);
  });

  it("answers 502 upstream_auth_failed (not 401) when Zavu refuses the stored key", async () => {
    const main = zavu(MAIN_KEY);
    const other = await insertTenant({ issuer: "https://revoked.example", jwks: idp.jwks() });
    const client = gatewayClient(await idp.token({ iss: "https://revoked.example" }));
    await client.balance.retrieve();
    await main.subAccounts.apiKeys.revoke(other.keyId, { id: other.subAccountId });
    await expectApiError(client.balance.retrieve(), 502, "upstream_auth_failed");
  });

  it("never answers with a stack trace: its own database failing is a bare 500 internal_error, on /v1 and /admin/v1", async () => {
    // The gateway's own storage fails (its identities table gone): nothing Zavu or the client did.
    await env.DB.prepare("ALTER TABLE tenant_identities RENAME TO tenant_identities_away").run();
    try {
      const cold = newIsolate(); // nothing cached: the token must be looked up in D1
      const edge = await cold.fetch("/v1/messages", { method: "POST", headers: await auth(), body: "{}" });
      const listing = await cold.fetch("/admin/v1/tenants", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      for (const res of [edge, listing]) {
        const text = await res.text();
        expect(res.status).toBe(500);
        expect(JSON.parse(text)).toEqual({
          code: "internal_error",
          message: "The gateway failed to handle this request.",
        });
        expect(text).not.toMatch(/at .*\.(ts|js):\d+|D1_ERROR|SQLITE|tenant_identities/i);
      }
    } finally {
      await env.DB.prepare("ALTER TABLE tenant_identities_away RENAME TO tenant_identities").run();
    }
  });
});
