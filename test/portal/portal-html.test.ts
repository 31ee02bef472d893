import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { gatewayClient, gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { createLink, postForm, publishIssuer } from "../helpers/portal";
import { sandbox } from "../helpers/sandbox";

beforeAll(async () => {
  await sandbox.reset();
});

/** The hidden and visible fields of the page's last form, as the browser would post them. */
function lastFormFields(html: string): Record<string, string> {
  const forms = html.split("<form").slice(1);
  const last = forms[forms.length - 1] ?? "";
  const fields: Record<string, string> = {};
  for (const m of last.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[m[1]!] = m[2]!
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, "&")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">");
  }
  return fields;
}

function expectPageHeaders(res: Response) {
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'none'");
  expect(csp).toMatch(/style-src 'nonce-[A-Za-z0-9+/=]+'/);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("content-type")).toContain("text/html");
}

describe("portal HTML: every step is a form, no script", () => {
  it("walks provider → discovery → test → activation, and the page never echoes the secret", async () => {
    const idp = await TestIdp.create("https://idp.test/html-walk", "EdDSA");
    await publishIssuer(idp, "html-walk");
    const { secret } = await createLink({ name: "Page Walkers" });

    const first = await gatewayFetch(`/onboard/${secret}`);
    expect(first.status).toBe(200);
    expectPageHeaders(first);
    const start = await first.text();
    expect(start).not.toContain("<script");
    for (const label of [
      "Auth0",
      "Okta",
      "Microsoft Entra ID",
      "Google",
      "AWS Cognito",
      "Clerk",
      "Firebase Auth",
      "Supabase Auth",
      "Keycloak",
      "WorkOS",
      "Any OpenID Connect provider",
    ]) {
      expect(start).toContain(`<span>${label}</span>`);
    }
    expect(start).toContain("Connect Page Walkers to the Zavu gateway");

    const auth0 = await (await gatewayFetch(`/onboard/${secret}?provider=auth0`)).text();
    expect(auth0).toContain('name="f_domain"');
    expect(auth0).toContain("Auth0 Dashboard → Applications");

    const discovered = await postForm(secret, { provider: "oidc", f_issuer: idp.issuer, step: "discover" });
    expect(discovered.status).toBe(200);
    const keysPage = await discovered.text();
    expect(keysPage).toContain(`<code>${idp.kid}</code>`);
    expect(keysPage).toContain("OKP Ed25519");
    const carried = lastFormFields(keysPage);
    expect(carried).toMatchObject({
      provider: "oidc",
      f_issuer: idp.issuer,
      issuer: idp.issuer,
      jwksUri: "https://idp.test/html-walk/jwks.json",
      algorithms: "EdDSA",
    });

    const badTest = await postForm(secret, {
      ...carried,
      audience: "gw",
      token: await idp.token({ aud: "nope" }),
      step: "test",
    });
    const badPage = await badTest.text();
    expect(badPage).toContain("The token does not pass yet");
    expect(badPage).toContain("✗ Failed</span> <strong>audience</strong>");
    expect(badPage).not.toContain('value="complete"');

    const token = await idp.token({ aud: "gw" });
    const goodPage = await (await postForm(secret, { ...carried, audience: "gw", token, step: "test" })).text();
    expect(goodPage).toContain("The token passes every check");
    expect(goodPage).toContain('value="complete"');
    const activation = lastFormFields(goodPage);
    expect(activation).toMatchObject({ issuer: idp.issuer, audience: "gw", token });

    const done = await postForm(secret, { ...activation, name: "Page Walkers GmbH", step: "complete" });
    expect(done.status).toBe(201);
    const donePage = await done.text();
    expect(donePage).toContain("You are live");
    expect(donePage).toContain('<code id="gateway-url">https://gateway.test</code>');
    expect(donePage).toContain("import Zavudev from &quot;@zavudev/sdk&quot;");
    for (const html of [start, auth0, keysPage, badPage, goodPage, donePage]) expect(html).not.toContain(secret);

    const tenantId = /<code>(tnt_[0-9a-z]{26})<\/code>/.exec(donePage)![1]!;
    const tenant = (await admin("GET", `/tenants/${tenantId}`)).body.tenant;
    expect(tenant).toMatchObject({ name: "Page Walkers GmbH", identity: { algorithms: ["EdDSA"], audience: ["gw"] } });
    expect((await gatewayClient(await idp.token({ aud: "gw" })).balance.retrieve()).totalSpent).toBe(0);

    const used = await gatewayFetch(`/onboard/${secret}`);
    expect(used.status).toBe(410);
    expectPageHeaders(used);
    const usedPage = await used.text();
    expect(usedPage).toContain("This link has already been used");
    expect(usedPage).not.toContain("<form");
  });

  it("shows field problems beside the field, and discovery failures beside the step", async () => {
    const { secret } = await createLink();
    const res = await postForm(secret, { provider: "cognito", f_pool: "not a pool", step: "discover" });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('aria-invalid="true"');
    expect(html).toContain("the user pool ID looks like eu-west-1_AbCdEf123");
    expect(html).toContain('value="not a pool"');

    const unreachable = await postForm(secret, {
      provider: "oidc",
      f_issuer: "https://down.sandbox/realm",
      step: "discover",
    });
    expect(unreachable.status).toBe(400);
    const page = await unreachable.text();
    expect(page).toMatch(
      /role="alert"[^>]*>The discovery document \(https:\/\/down\.sandbox\/realm\/\.well-known\/openid-configuration\) could not be fetched/,
    );
    expect(page).toContain('value="https://down.sandbox/realm"');
  });

  it("a pasted JWKS skips discovery", async () => {
    const idp = await TestIdp.create("https://pasted.example", "ES256");
    const { secret } = await createLink();
    const res = await postForm(secret, {
      provider: "oidc",
      f_issuer: idp.issuer,
      jwksText: JSON.stringify(idp.jwks()),
      step: "discover",
    });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain("the JWKS you pasted");
    expect(html).toContain(`<code>${idp.kid}</code>`);
  });

  it("unknown, revoked and rate-limited links get a clear page and nothing to submit", async () => {
    const unknown = await gatewayFetch(`/onboard/${"A".repeat(43)}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("This link is not valid");

    const { secret, link } = await createLink();
    await admin("DELETE", `/onboarding-links/${link.id}`);
    const revoked = await gatewayFetch(`/onboard/${secret}`);
    expect(revoked.status).toBe(410);
    expect(await revoked.text()).toContain("This link has been revoked");

    const limited = await createLink();
    await env.DB.prepare("UPDATE onboarding_links SET failures = 20, failure_window = ? WHERE id = ?")
      .bind(Date.now(), limited.link.id)
      .run();
    const res = await postForm(limited.secret, { provider: "oidc", f_issuer: "https://idp.test/x", step: "discover" });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(3500);
    const html = await res.text();
    expect(html).toContain("Too many attempts");
    expect(html).not.toContain("<form");
  });
});
