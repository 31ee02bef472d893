import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { admin } from "../helpers/admin";
import { expectApiError, gatewayClient, gatewayFetch } from "../helpers/gateway";
import { jwksFetchCount, publishJwks, TestIdp } from "../helpers/idp";
import { createLink, portal, publishIssuer } from "../helpers/portal";
import { sandbox } from "../helpers/sandbox";

beforeAll(async () => {
  await sandbox.reset();
});
afterEach(async () => {
  vi.useRealTimers();
  await sandbox.clearFaults();
});

let n = 0;
/** A fresh provider under https://idp.test/<name>, with discovery and JWKS published. */
async function provider(alg: "ES256" | "RS256" | "EdDSA" = "ES256") {
  const name = `p${++n}-${crypto.randomUUID().slice(0, 6)}`;
  const idp = await TestIdp.create(`https://idp.test/${name}`, alg);
  const { jwksUri } = await publishIssuer(idp, name);
  return { idp, jwksUri, identity: { issuer: idp.issuer, jwksUri, audience: "zavu-gateway" } };
}

async function tenantsWithIssuer(issuer: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM tenant_identities WHERE issuer = ?")
    .bind(issuer)
    .first<{ n: number }>();
  return row!.n;
}

describe("portal JSON: a new customer onboards itself", () => {
  it("discovers the keys, tests a real token, activates; the customer's own JWT then sends through the SDK", async () => {
    const { idp, identity } = await provider();
    const { link, secret } = await createLink({ name: "Acme Ltd", externalId: "crm-acme", creditLimit: 5000 });
    expect(link).toMatchObject({ status: "pending", purpose: "create", name: "Acme Ltd" });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const state = await portal(secret);
    expect(state.status).toBe(200);
    expect(state.body.link).toMatchObject({ id: link.id, status: "pending", purpose: "create", name: "Acme Ltd" });

    const found = await portal(secret, "/discover", { issuer: idp.issuer });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body).toEqual({
      issuer: idp.issuer,
      jwksUri: identity.jwksUri,
      algorithms: ["ES256"],
      keys: [{ kid: idp.kid, kty: "EC", alg: "ES256", crv: "P-256" }],
    });

    const token = await idp.token({ aud: "zavu-gateway", sub: "admin@acme" });
    const test = await portal(secret, "/test", { identity, token });
    expect(test.status).toBe(200);
    expect(test.body.ok).toBe(true);
    expect(test.body.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ["format", true],
      ["algorithm", true],
      ["signature", true],
      ["issuer", true],
      ["audience", true],
      ["expiry", true],
      ["claim", true],
    ]);
    expect(test.body.claims).toMatchObject({ sub: "admin@acme", iss: idp.issuer, aud: "zavu-gateway" });
    expect(await tenantsWithIssuer(idp.issuer)).toBe(0); // a test stores nothing

    const done = await portal(secret, "/complete", { identity, token });
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    expect(done.body).toEqual({
      tenant: { id: expect.stringMatching(/^tnt_/), name: "Acme Ltd", status: "active" },
      gatewayUrl: "https://gateway.test",
    });

    const tenant = (await admin("GET", `/tenants/${done.body.tenant.id}`)).body.tenant;
    expect(tenant).toMatchObject({
      externalId: "crm-acme",
      creditLimit: 5000,
      status: "active",
      identity: { issuer: idp.issuer, jwksUri: identity.jwksUri, audience: ["zavu-gateway"], algorithms: null },
    });
    const { message } = await gatewayClient(await idp.token({ aud: "zavu-gateway" })).messages.send({
      to: "+15551234567",
      text: "first message",
    });
    expect(message.id).toBeTruthy();

    // Used: every portal call now says so and changes nothing.
    for (const [path, body] of [
      ["", undefined],
      ["/discover", { issuer: idp.issuer }],
      ["/test", { identity, token }],
      ["/complete", { identity, token }],
    ] as const) {
      const again = await portal(secret, path, body);
      expect(again.status).toBe(410);
      expect(again.body.code).toBe("link_used");
    }
    const listed = await admin("GET", "/onboarding-links?status=completed");
    expect(listed.body.items.find((l: { id: string }) => l.id === link.id)).toMatchObject({
      status: "completed",
      tenantId: tenant.id,
    });
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const audit = await admin("GET", `/audit?tenantId=${tenant.id}`);
    const actions = audit.body.items.map((e: { action: string; actor: string }) => `${e.actor} ${e.action}`);
    expect(actions).toContain(`portal:${link.id} onboarding_link.complete`);
    expect(actions).toContain(`portal:${link.id} tenant.provision.completed`);
    expect(JSON.stringify(audit.body)).not.toContain(token);
  });

  it("checks an identity once per step: one JWKS fetch for a test, one for an activation (new tenant or setup link)", async () => {
    const { idp, jwksUri, identity } = await provider();
    const path = new URL(jwksUri).pathname;
    const fetches = () => jwksFetchCount(path);
    const token = await idp.token({ aud: "zavu-gateway" });
    const { secret } = await createLink({ name: "Counted Co" });

    const before = await fetches();
    expect((await portal(secret, "/test", { identity, token })).body.ok).toBe(true);
    expect(await fetches()).toBe(before + 1);
    const done = await portal(secret, "/complete", { identity, token });
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    expect(await fetches()).toBe(before + 2);

    // A setup link for that tenant, to a new provider: its activation fetches the new keys once too.
    const next = await provider();
    const nextPath = new URL(next.jwksUri).pathname;
    const link = await createLink({ tenantId: done.body.tenant.id });
    const again = await portal(link.secret, "/complete", {
      identity: next.identity,
      token: await next.idp.token({ aud: "zavu-gateway" }),
    });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(await jwksFetchCount(nextPath)).toBe(1);
  });

  it("takes a pasted JWKS instead of a jwksUri", async () => {
    const idp = await TestIdp.create("https://idp.test/inline-only", "RS256");
    const { secret } = await createLink({ name: "Inline Co" });
    const identity = { issuer: idp.issuer, jwks: idp.jwks() };
    const done = await portal(secret, "/complete", { identity, token: await idp.token() });
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    expect((await gatewayClient(await idp.token()).balance.retrieve()).balance).toBeGreaterThan(0);
  });

  it("names each failing check with its reason, and stores nothing", async () => {
    const { idp, identity } = await provider();
    const other = await TestIdp.create(idp.issuer, "ES256"); // same issuer string, another key: a forged token
    const { secret } = await createLink();
    const failing = async (token: string, id: Record<string, unknown> = identity) => {
      const res = await portal(secret, "/test", { identity: id, token });
      expect(res.status).toBe(200);
      expect(res.body.ok).toBe(false);
      return Object.fromEntries(
        res.body.checks
          .filter((c: { ok: boolean }) => !c.ok)
          .map((c: { name: string; reason: string }) => [c.name, c.reason]),
      );
    };
    expect(await failing(await idp.token({ aud: "zavu-gateway", exp: Math.floor(Date.now() / 1000) - 600 }))).toEqual({
      expiry: expect.stringMatching(/^The token expired at .* \(10 min ago\)\. Get a fresh one\.$/),
    });
    expect(await failing(await idp.token({ aud: "someone-else" }))).toEqual({
      audience: 'The token\'s audience is "someone-else"; expected "zavu-gateway".',
    });
    expect(await failing(await idp.token({ aud: "zavu-gateway", iss: "https://evil.example" }))).toEqual({
      issuer: `The token's issuer is "https://evil.example"; expected "${idp.issuer}".`,
    });
    expect(await failing(await other.token({ aud: "zavu-gateway" }))).toEqual({
      signature: expect.stringContaining(`No key has kid "${other.kid}"`),
    });
    expect(await failing(await other.token({ aud: "zavu-gateway" }, { header: { kid: idp.kid } }))).toEqual({
      signature: "The signature does not verify with the provider's keys.",
    });
    expect(await failing(await idp.token({ aud: "zavu-gateway", exp: undefined }, { expiresIn: null }))).toEqual({
      expiry: "The token has no exp claim; the gateway accepts only expiring tokens.",
    });
    expect(
      await failing(await idp.token({ aud: "zavu-gateway", org_id: "org_b" }), {
        ...identity,
        claim: { name: "org_id", value: "org_a" },
      }),
    ).toEqual({ claim: 'The token\'s "org_id" is "org_b"; expected "org_a".' });
    const hs = await failing("eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl");
    expect(hs.algorithm).toBe(
      '"HS256" is not accepted; the gateway accepts RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519 (asymmetric only).',
    );
    expect(await failing("not-a-token")).toEqual({
      format: "This is not a signed JWT (three base64url parts separated by dots).",
    });
    expect(await tenantsWithIssuer(idp.issuer)).toBe(0);
  });

  it("refuses bad provider settings with a clear message: private, plain http, unreachable, redirecting, wrong issuer", async () => {
    const { secret } = await createLink();
    const refused = async (body: Record<string, unknown>) => {
      const res = await portal(secret, "/discover", body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.code).toBe("invalid_request");
      return res.body.message as string;
    };
    expect(await refused({ issuer: "https://10.0.0.7/realms/a" })).toBe(
      "The issuer must name a public host, not a private, loopback or special-purpose address.",
    );
    expect(await refused({ issuer: "http://idp.test/plain" })).toBe("The issuer must use https.");
    expect(await refused({ issuer: "https://idp.test/x", jwksUri: "https://localhost/jwks" })).toBe(
      "jwksUri must name a public host, not a private, loopback or special-purpose address.",
    );
    expect(await refused({ issuer: "https://down.sandbox/tenant" })).toMatch(
      /^The discovery document \(https:\/\/down\.sandbox\/tenant\/\.well-known\/openid-configuration\) could not be fetched/,
    );
    expect(await refused({ issuer: "https://idp.test/nothing-here" })).toMatch(/answered HTTP 404\.$/);
    await env.IDP.fetch("https://idp.test/__idp/publish", {
      method: "POST",
      body: JSON.stringify({ path: "/moved/.well-known/openid-configuration", redirectTo: "https://10.0.0.1/x" }),
    });
    expect(await refused({ issuer: "https://idp.test/moved" })).toMatch(
      /answered HTTP 302 \(a redirect\); redirects are not followed\.$/,
    );

    const idp = await TestIdp.create("https://idp.test/mismatch", "ES256");
    await publishIssuer(idp, "mismatch", { issuerInDoc: "https://idp.test/mismatch/" });
    const mismatch = await portal(secret, "/discover", { issuer: idp.issuer });
    expect(mismatch.body).toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining('names its issuer "https://idp.test/mismatch/"'),
      details: { suggestedIssuer: "https://idp.test/mismatch/" },
    });
    await publishJwks("/private-keys/jwks.json", { keys: [{ ...idp.publicJwk, d: "secret-part" }] });
    expect(await refused({ issuer: "https://idp.test/x", jwksUri: "https://idp.test/private-keys/jwks.json" })).toMatch(
      /no usable public signing key \(keys\[0\]: private or symmetric key material/,
    );
    // An unreachable JWKS on test and activation too: 400, nothing made.
    const test = await portal(secret, "/test", {
      identity: { issuer: "https://idp.test/gone", jwksUri: "https://down.sandbox/jwks.json" },
      token: "x.y.z",
    });
    expect(test.status).toBe(400);
    expect(test.body.message).toMatch(/^identity\.jwksUri could not be fetched/);
    expect(await tenantsWithIssuer("https://idp.test/gone")).toBe(0);
  });

  it("refuses another tenant's issuer and claim with 409, without saying whose it is", async () => {
    const { idp, identity } = await provider();
    const owner = await createLink({ name: "Secret Owner Inc" });
    const claimed = { ...identity, claim: { name: "org_id", value: "org_1" } };
    expect(
      (
        await portal(owner.secret, "/complete", {
          identity: claimed,
          token: await idp.token({ aud: "zavu-gateway", org_id: "org_1" }),
        })
      ).status,
    ).toBe(201);

    const intruder = await createLink({ name: "Intruder" });
    const res = await portal(intruder.secret, "/complete", {
      identity: claimed,
      token: await idp.token({ aud: "zavu-gateway", org_id: "org_1" }),
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("conflict");
    expect(JSON.stringify(res.body)).not.toMatch(/Secret Owner|tnt_/);
    expect((await portal(intruder.secret)).body.link.status).toBe("pending"); // still usable for its own identity
    const own = { ...identity, claim: { name: "org_id", value: "org_2" } };
    const ok = await portal(intruder.secret, "/complete", {
      identity: own,
      token: await idp.token({ aud: "zavu-gateway", org_id: "org_2" }),
    });
    expect(ok.status).toBe(201);
  });

  it("a link's secret opens its portal only: never the admin API, never the customer edge", async () => {
    const { secret } = await createLink();
    expect((await admin("GET", "/tenants", { token: secret })).status).toBe(401);
    const edge = await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${secret}` } });
    expect(edge.status).toBe(401);
    expect((await portal(`${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`)).status).toBe(404);
    expect((await portal("short")).status).toBe(404);
  });

  it("expired and revoked links answer 410 and change nothing", async () => {
    const { idp, identity } = await provider();
    const expiring = await createLink({ expiresInHours: 1 });
    const revoked = await createLink();
    expect((await admin("DELETE", `/onboarding-links/${revoked.link.id}`)).body.link.status).toBe("revoked");
    const token = await idp.token({ aud: "zavu-gateway" });
    vi.useFakeTimers({ now: Date.now() + 3601_000, toFake: ["Date"] });
    for (const [secret, code] of [
      [expiring.secret, "link_expired"],
      [revoked.secret, "link_revoked"],
    ] as const) {
      expect((await portal(secret)).body.code).toBe(code);
      const res = await portal(secret, "/complete", { identity, token: await idp.token({ aud: "zavu-gateway" }) });
      expect(res.status).toBe(410);
      expect(res.body).toEqual({ code, message: expect.any(String) });
    }
    expect(token).toBeTruthy();
    expect(await tenantsWithIssuer(idp.issuer)).toBe(0);
    const expired = await admin("GET", "/onboarding-links?status=expired");
    expect(expired.body.items.map((l: { id: string }) => l.id)).toContain(expiring.link.id);
    const pending = await admin("GET", "/onboarding-links?status=pending");
    expect(pending.body.items.map((l: { id: string }) => l.id)).not.toContain(expiring.link.id);
  });

  it("two activations racing on one link make one tenant; the other is refused", async () => {
    const { idp, identity } = await provider();
    const { secret } = await createLink({ name: "Racer" });
    const token = await idp.token({ aud: "zavu-gateway" });
    const results = await Promise.all([1, 2, 3].map(() => portal(secret, "/complete", { identity, token })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) expect(["conflict", "link_used"]).toContain(r.body.code);
    expect(await tenantsWithIssuer(idp.issuer)).toBe(1);
  });
});

describe("portal JSON: crash safety", () => {
  it("an activation interrupted after the tenant was written resumes with the same token", async () => {
    const { idp, identity } = await provider();
    const { secret, link } = await createLink({ name: "Interrupted" });
    await sandbox.fault({ method: "GET", path: "/v1/sub-accounts/*/api-keys", status: 503, count: 1 });
    const token = await idp.token({ aud: "zavu-gateway" });
    const first = await portal(secret, "/complete", { identity, token });
    expect(first.status).toBe(503);
    expect(first.body.code).toBe("provisioning_incomplete");
    const second = await portal(secret, "/complete", { identity, token });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(second.body.tenant.status).toBe("active");
    expect((await portal(secret)).body.code).toBe("link_used");
    const listed = await admin("GET", "/onboarding-links?status=completed");
    expect(listed.body.items.find((l: { id: string }) => l.id === link.id).tenantId).toBe(second.body.tenant.id);
  });

  it("when Zavu refuses the sub-account, no tenant is kept and the link stays usable", async () => {
    const { idp, identity } = await provider();
    const { secret } = await createLink({ name: "Refused once" });
    await sandbox.fault({ method: "POST", path: "/v1/sub-accounts", status: 400, code: "invalid_request", count: 1 });
    const token = await idp.token({ aud: "zavu-gateway" });
    const first = await portal(secret, "/complete", { identity, token });
    expect(first.status).toBe(502);
    expect(await tenantsWithIssuer(idp.issuer)).toBe(0);
    expect((await portal(secret)).body.link.status).toBe("pending");
    expect((await portal(secret, "/complete", { identity, token })).status).toBe(201);
  });
});

describe("portal JSON: limits per link", () => {
  it("after 20 failed attempts in an hour: 429 with Retry-After, for this link only; successes do not count", async () => {
    const { idp, identity } = await provider();
    const { secret } = await createLink();
    const bad = await idp.token({ aud: "wrong" });
    const good = await idp.token({ aud: "zavu-gateway" });
    for (let i = 0; i < 5; i++) expect((await portal(secret, "/test", { identity, token: good })).body.ok).toBe(true);
    for (let i = 0; i < 19; i++) expect((await portal(secret, "/test", { identity, token: bad })).body.ok).toBe(false);
    expect((await portal(secret, "/discover", { issuer: "https://10.1.1.1/x" })).status).toBe(400); // the 20th failure
    const limited = await portal(secret, "/test", { identity, token: good });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe("rate_limited");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3000);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect((await portal(secret, "/complete", { identity, token: good })).status).toBe(429);
    expect(await tenantsWithIssuer(idp.issuer)).toBe(0);

    const other = await createLink();
    expect((await portal(other.secret, "/test", { identity, token: good })).status).toBe(200);

    vi.useFakeTimers({ now: Date.now() + 3601_000, toFake: ["Date"] });
    const later = await idp.token({ aud: "zavu-gateway" });
    expect((await portal(secret, "/test", { identity, token: later })).body.ok).toBe(true); // a new window
  });

  it("the count lives in D1: it holds whichever isolate answers", async () => {
    const { identity, idp } = await provider();
    const { secret, link } = await createLink();
    const bad = await idp.token({ aud: "wrong" });
    await Promise.all(Array.from({ length: 30 }, () => portal(secret, "/test", { identity, token: bad })));
    const row = await env.DB.prepare("SELECT failures FROM onboarding_links WHERE id = ?")
      .bind(link.id)
      .first<{ failures: number }>();
    expect(row!.failures).toBe(20); // 30 in parallel, never more than the limit counted
  });
});

describe("portal JSON: a setup link for an existing tenant", () => {
  it("replaces the identity: the old issuer stops working, the new one works", async () => {
    const old = await provider();
    const created = await createLink({ name: "Migrating Co" });
    const done = await portal(created.secret, "/complete", {
      identity: old.identity,
      token: await old.idp.token({ aud: "zavu-gateway" }),
    });
    const tenantId = done.body.tenant.id;
    expect((await gatewayClient(await old.idp.token({ aud: "zavu-gateway" })).balance.retrieve()).totalSpent).toBe(0);

    const next = await provider("RS256");
    const setup = await createLink({ tenantId, expiresInHours: 24 });
    expect(setup.link).toMatchObject({ purpose: "identity", tenantId });
    expect((await portal(setup.secret)).body.link.tenant).toEqual({ id: tenantId, name: "Migrating Co" });
    const replaced = await portal(setup.secret, "/complete", {
      identity: next.identity,
      token: await next.idp.token({ aud: "zavu-gateway" }),
    });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(201);
    expect(replaced.body.tenant).toEqual({ id: tenantId, name: "Migrating Co", status: "active" });

    await expectApiError(
      gatewayClient(await old.idp.token({ aud: "zavu-gateway" })).balance.retrieve(),
      401,
      "unauthorized",
    );
    expect((await gatewayClient(await next.idp.token({ aud: "zavu-gateway" })).balance.retrieve()).totalSpent).toBe(0);
    expect((await portal(setup.secret)).body.code).toBe("link_used");
    const audit = await admin("GET", `/audit?tenantId=${tenantId}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain("tenant.identity.replace");
  });

  it("is refused for a deactivated tenant and takes no new-tenant fields", async () => {
    const { idp, identity } = await provider();
    const created = await createLink({ name: "Soon gone" });
    const done = await portal(created.secret, "/complete", {
      identity,
      token: await idp.token({ aud: "zavu-gateway" }),
    });
    const tenantId = done.body.tenant.id;
    const mixed = await admin("POST", "/onboarding-links", { body: { tenantId, name: "x" } });
    expect(mixed.status).toBe(400);
    expect(mixed.body.message).toContain("takes only tenantId and expiresInHours");
    expect((await admin("DELETE", `/tenants/${tenantId}`)).status).toBe(200);
    const refused = await admin("POST", "/onboarding-links", { body: { tenantId } });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("invalid_state");
  });
});
