// Issuers that sign for anyone (Google, Microsoft's common endpoints, Apple, ...) must come with an
// audience, through every path that registers an identity: the admin API (create, import, PUT
// identity), the portal (JSON and HTML, new tenants and setup links). Existing ones are listed.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { admin, createTenant, tenantBody } from "../helpers/admin";
import { gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { createLink, portal, postForm } from "../helpers/portal";
import { sandbox } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

const GOOGLE = "https://accounts.google.com";
const MICROSOFT_COMMON = "https://login.microsoftonline.com/common/v2.0";
const CLIENT_ID = "123-app.apps.googleusercontent.com";

let google: TestIdp;
let microsoft: TestIdp;

beforeAll(async () => {
  await sandbox.reset();
  // Stand-ins that sign with the shared issuers' names: what matters is the registration, not whose key it is.
  google = await TestIdp.create(GOOGLE, "RS256");
  microsoft = await TestIdp.create(MICROSOFT_COMMON, "RS256");
});

async function tenantsWithIssuer(issuer: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM tenant_identities i JOIN tenants t ON t.id = i.tenant_id WHERE i.issuer = ? AND t.status != 'deactivated'",
  )
    .bind(issuer)
    .first<{ n: number }>();
  return row!.n;
}

function expectInvalidIdentity(res: { status: number; body: any; text?: string }, issuer: string) {
  expect({ status: res.status, code: res.body?.code }, JSON.stringify(res.body)).toEqual({
    status: 400,
    code: "invalid_identity",
  });
  expect(res.body.message).toContain(issuer);
  expect(res.body.message).toMatch(/needs an audience/);
}

describe("a shared issuer without an audience is refused: 400 invalid_identity, nothing stored, Zavu not called", () => {
  it("admin create, for Google and Microsoft's common endpoint; a claim alone does not make it safe", async () => {
    for (const idp of [google, microsoft]) {
      await sandbox.clearRequests();
      for (const identity of [
        { issuer: idp.issuer, jwks: idp.jwks() },
        { issuer: idp.issuer, jwks: idp.jwks(), claim: { name: "hd", value: "acme.com" } },
      ]) {
        expectInvalidIdentity(await admin("POST", "/tenants", { body: tenantBody(identity) }), idp.issuer);
      }
      expect((await sandbox.requests()).filter((r) => r.path.startsWith("/v1/sub-accounts"))).toEqual([]);
      expect(await tenantsWithIssuer(idp.issuer)).toBe(0);
    }
  });

  it("admin import, before the key is even checked with Zavu", async () => {
    await sandbox.clearRequests();
    const res = await admin("POST", "/tenants/import", {
      body: {
        subAccountId: "sa_whatever",
        apiKey: "zv_live_not_checked",
        identity: { issuer: GOOGLE, jwks: google.jwks() },
      },
    });
    expectInvalidIdentity(res, GOOGLE);
    expect(await sandbox.requests()).toEqual([]);
  });

  it("PUT /tenants/{id}/identity: the tenant keeps the identity it had", async () => {
    const { tenant } = await createTenant();
    const res = await admin("PUT", `/tenants/${tenant.id}/identity`, { body: { issuer: GOOGLE, jwks: google.jwks() } });
    expectInvalidIdentity(res, GOOGLE);
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.identity.issuer).toBe(tenant.identity!.issuer);
  });

  it("Google with an audience alone is refused too: a service account can mint a token for any audience", async () => {
    const res = await admin("POST", "/tenants", {
      body: tenantBody({ issuer: GOOGLE, audience: CLIENT_ID, jwks: google.jwks() }),
    });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: "invalid_identity" });
    expect(res.body.message).toMatch(/also needs a claim that only your tokens carry: one of azp, hd, email, sub/);
    expect(res.body.details).toEqual([{ path: "identity.claim", message: res.body.message }]);
  });

  it("GitHub Actions with an audience alone, or pinned by a repository name, is refused; pinned by an id it registers", async () => {
    const actions = await TestIdp.create("https://token.actions.githubusercontent.com", "RS256");
    const identity = { issuer: actions.issuer, audience: "https://gateway.example", jwks: actions.jwks() };
    for (const claim of [undefined, { name: "repository_owner", value: "acme" }]) {
      const res = await admin("POST", "/tenants", { body: tenantBody({ ...identity, ...(claim ? { claim } : {}) }) });
      expect({ status: res.status, code: res.body.code }, res.text).toEqual({ status: 400, code: "invalid_identity" });
    }
    const ok = await admin("POST", "/tenants", {
      body: tenantBody({ ...identity, claim: { name: "repository_owner_id", value: "4242" } }),
    });
    expect(ok.status, ok.text).toBe(201);
    // Another owner's workflow asking for the same audience gets nowhere.
    const status = async (owner: string) => {
      const token = await actions.token({ aud: "https://gateway.example", repository_owner_id: owner });
      const r = await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${token}` } });
      await r.body?.cancel();
      return r.status;
    };
    expect(await status("4242")).toBe(200);
    expect(await status("666")).toBe(401);
  });

  it("with an audience and a pinning claim, Google registers, and only tokens made for that client and audience pass", async () => {
    const res = await admin("POST", "/tenants", {
      body: tenantBody({
        issuer: GOOGLE,
        audience: CLIENT_ID,
        claim: { name: "azp", value: CLIENT_ID },
        jwks: google.jwks(),
      }),
    });
    expect(res.status, res.text).toBe(201);
    const balance = async (claims: Record<string, string>) => {
      const token = await google.token(claims);
      const r = await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${token}` } });
      await r.body?.cancel();
      return r.status;
    };
    expect(await balance({ aud: CLIENT_ID, azp: CLIENT_ID })).toBe(200);
    expect(await balance({ aud: "someone-elses-app.apps.googleusercontent.com", azp: CLIENT_ID })).toBe(401);
    // What a service account's ID token looks like: any audience it asked for, its own id as azp.
    expect(await balance({ aud: CLIENT_ID, azp: "104857600000000000000" })).toBe(401);
    await admin("DELETE", `/tenants/${res.body.tenant.id}`);
  });
});

describe("the portal: a failed check in the test, a refusal at activation", () => {
  it("JSON: the test names the missing audience as a failed check with the reason; activation is refused", async () => {
    const { secret, link } = await createLink({ name: "Open Door Ltd" });
    const identity = { issuer: GOOGLE, jwks: google.jwks() };
    const token = await google.token({ aud: "anything" });
    const tested = await portal(secret, "/test", { identity, token });
    expect(tested.status, JSON.stringify(tested.body)).toBe(200);
    expect(tested.body.ok).toBe(false);
    const audience = tested.body.checks.find((c: { name: string }) => c.name === "audience");
    expect(audience).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/needs an audience: your app's client ID at Google/),
    });

    expectInvalidIdentity(await portal(secret, "/complete", { identity, token }), GOOGLE);
    expect(await tenantsWithIssuer(GOOGLE)).toBe(0);
    const pending = (await admin("GET", "/onboarding-links?status=pending&limit=100")).body.items;
    expect(pending.map((l: { id: string }) => l.id)).toContain(link.id);
  });

  it("JSON: on an issuer of one organisation, no audience passes with a warning", async () => {
    const own = await TestIdp.create(`https://${crypto.randomUUID()}.idp.example`, "ES256");
    const { secret } = await createLink();
    const tested = await portal(secret, "/test", {
      identity: { issuer: own.issuer, jwks: own.jwks() },
      token: await own.token(),
    });
    expect(tested.body.ok).toBe(true);
    expect(tested.body.checks.find((c: { name: string }) => c.name === "audience")).toMatchObject({
      ok: true,
      warning: true,
      reason: expect.stringMatching(/^No audience configured/),
    });
  });

  it("HTML: the test page shows the failed audience check; activation shows the refusal", async () => {
    const { secret } = await createLink({ name: "Open Door Ltd" });
    const fields = {
      provider: "oidc",
      f_issuer: MICROSOFT_COMMON,
      issuer: MICROSOFT_COMMON,
      jwksText: JSON.stringify(microsoft.jwks()),
      token: await microsoft.token({ aud: "anything" }),
    };
    const tested = await (await postForm(secret, { ...fields, step: "test" })).text();
    expect(tested).toContain("The token does not pass yet");
    expect(tested).toContain("✗ Failed</span> <strong>audience</strong>");
    expect(tested).toMatch(
      /needs an audience: your app&#39;s client ID at Microsoft|needs an audience: your app's client ID at Microsoft/,
    );
    const activated = await postForm(secret, { ...fields, name: "Open Door Ltd", step: "complete" });
    expect(activated.status).toBe(400);
    expect(await activated.text()).toMatch(/needs an audience/);
    expect(await tenantsWithIssuer(MICROSOFT_COMMON)).toBe(0);
  });

  it("a setup link for an existing tenant cannot switch it to a shared issuer without an audience", async () => {
    const { tenant } = await createTenant();
    const { secret } = await createLink({ tenantId: tenant.id });
    const res = await portal(secret, "/complete", {
      identity: { issuer: GOOGLE, jwks: google.jwks() },
      token: await google.token({ aud: "x" }),
    });
    expectInvalidIdentity(res, GOOGLE);
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.identity.issuer).toBe(tenant.identity!.issuer);
  });
});

it("GET /admin/v1/maintenance lists identities registered before the rule that break it, past any number that are fine", async () => {
  // 150 single-tenant Entra identities without an audience (fine: one organisation's directory) come first by id.
  const now = Date.now();
  const statements = [];
  for (let i = 0; i < 150; i++) {
    const id = `tnt_0000000000entra${String(i).padStart(9, "0")}`;
    statements.push(
      env.DB.prepare(
        "INSERT INTO tenants (id, name, status, created_at, updated_at) VALUES (?, ?, 'active', ?, ?)",
      ).bind(id, `Entra ${i}`, now, now),
      env.DB.prepare("INSERT INTO tenant_identities (tenant_id, issuer, jwks, updated_at) VALUES (?, ?, ?, ?)").bind(
        id,
        `https://login.microsoftonline.com/${crypto.randomUUID()}/v2.0`,
        JSON.stringify(google.jwks()),
        now,
      ),
    );
  }
  await env.DB.batch(statements);
  const legacy = await TestIdp.create("https://appleid.apple.com", "ES256");
  const { id } = await insertTenant({ issuer: legacy.issuer, jwks: legacy.jwks() });
  const { id: unpinned } = await insertTenant({ issuer: GOOGLE, audience: [CLIENT_ID], jwks: legacy.jwks() });
  const { id: fine } = await insertTenant({
    issuer: "https://login.microsoftonline.com/organizations/v2.0",
    audience: ["api://x"],
    jwks: legacy.jwks(),
  });
  const res = await admin("GET", "/maintenance");
  expect(res.status).toBe(200);
  expect(res.body.identityRule.complete).toBe(true);
  const open = res.body.identityRule.openIdentities as Array<{ tenantId: string; issuer: string; problem: string }>;
  expect(open.find((i) => i.tenantId === id)).toMatchObject({
    issuer: "https://appleid.apple.com",
    problem: expect.stringMatching(/every Apple account or app/),
  });
  expect(open.find((i) => i.tenantId === unpinned)).toMatchObject({
    issuer: GOOGLE,
    problem: expect.stringMatching(/also needs a claim/),
  });
  expect(open.map((i) => i.tenantId)).not.toContain(fine);
  expect(open.filter((i) => i.tenantId.includes("entra"))).toEqual([]);
});
