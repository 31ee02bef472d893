// Every form's bad input, in a real browser: a clear message on the page, and nothing changed (checked
// through the admin API).
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, type Cluster, startCluster } from "../harness/cluster";
import { NodeIdp } from "../harness/idp";
import { type Browser, launch, publishProvider, shot } from "./browser";

let cluster: Cluster;
let browser: Browser;
let gateway: string;

beforeAll(async () => {
  cluster = await startCluster({ isolates: 1 });
  gateway = cluster.gateways[0]!;
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function newLink(body: Record<string, unknown> = { name: "Careful Co" }) {
  const res = await admin(gateway, "POST", "/onboarding-links", { body });
  expect(res.status).toBe(201);
  return res.body.link as { id: string; url: string };
}

/** Nothing changed: the link is still pending and no tenant holds the issuer. */
async function expectUnchanged(linkId: string, issuer: string) {
  const pending = (await admin(gateway, "GET", "/onboarding-links?status=pending&limit=100")).body.items;
  expect(pending.map((l: { id: string }) => l.id)).toContain(linkId);
  const tenants = (await admin(gateway, "GET", "/tenants?limit=100")).body.items;
  expect(tenants.filter((t: { identity: { issuer: string } }) => t.identity?.issuer === issuer)).toEqual([]);
}

async function discover(page: Page, url: string, issuer: string) {
  await page.goto(`${url}?provider=oidc`);
  await page.getByLabel("Issuer URL").fill(issuer);
  await page.getByRole("button", { name: "Find keys" }).click();
}

/** Waits until the page's alert says `expected` (a fragment swap or a page load may still be on its way). */
async function expectAlert(page: Page, expected: string | RegExp): Promise<void> {
  await expect
    .poll(async () => {
      const alerts = await page.getByRole("alert").allTextContents();
      return alerts
        .map((a) => a.trim())
        .find((a) => (typeof expected === "string" ? a === expected : expected.test(a)));
    })
    .toBeTruthy();
}

describe("browser: bad input in the portal", () => {
  it("a wrong issuer, an unreachable JWKS, a private JWKS URL: each told plainly, nothing stored", async () => {
    const link = await newLink();
    const page = await browser.page();

    const named = await NodeIdp.create("https://idp.test/renamed");
    await publishProvider(cluster, named, "renamed", { issuer: "https://idp.test/renamed/v2" });
    await discover(page, link.url, named.issuer);
    await expectAlert(
      page,
      'The provider names its issuer "https://idp.test/renamed/v2", not "https://idp.test/renamed". Tokens carry the provider\'s exact string: use "https://idp.test/renamed/v2".',
    );
    await shot(page, "portal-error-issuer");

    const down = await NodeIdp.create("https://idp.test/jwks-down");
    await publishProvider(cluster, down, "jwks-down", { jwks_uri: "https://down.sandbox/jwks.json" });
    await discover(page, link.url, down.issuer);
    await expectAlert(page, /^jwksUri \(https:\/\/down\.sandbox\/jwks\.json\) could not be fetched/);

    const inside = await NodeIdp.create("https://idp.test/jwks-private");
    await publishProvider(cluster, inside, "jwks-private", { jwks_uri: "https://10.0.0.5/jwks.json" });
    await discover(page, link.url, inside.issuer);
    await expectAlert(page, "jwksUri must name a public host, not a private, loopback or special-purpose address.");

    await discover(page, link.url, "https://169.254.169.254/latest");
    await expectAlert(page, "The issuer must name a public host, not a private, loopback or special-purpose address.");

    for (const issuer of [named.issuer, down.issuer, inside.issuer]) await expectUnchanged(link.id, issuer);
    expect(browser.problems).toEqual([]);
  });

  it("an expired token, a wrong audience, another provider's token: the failing check and why", async () => {
    const link = await newLink();
    const idp = await NodeIdp.create("https://idp.test/checks");
    await publishProvider(cluster, idp, "checks");
    const stranger = await NodeIdp.create(idp.issuer); // same issuer name, another key
    const page = await browser.page();
    await discover(page, link.url, idp.issuer);
    await page.getByLabel("Audience (optional)").fill("zavu-gateway");

    const failures: Record<string, string> = {};
    for (const [label, token] of [
      ["expired", await idp.token({ aud: "zavu-gateway" }, Math.floor(Date.now() / 1000) - 3600)],
      ["audience", await idp.token({ aud: "another-api" })],
      ["stranger", await stranger.token({ aud: "zavu-gateway" })],
    ] as const) {
      await page.getByLabel("A token from your provider").fill(token);
      await page.getByRole("button", { name: "Test connection" }).click();
      await page.getByRole("heading", { name: "The token does not pass yet" }).waitFor();
      failures[label] = (await page.locator(".checks li.fail").allTextContents()).join(" | ");
      if (label === "expired") await shot(page, "portal-error-token");
      expect(await page.getByRole("button", { name: "Activate" }).count()).toBe(0);
    }
    expect(failures.expired).toMatch(/^✗ Failed expiry — The token expired at .* \(60 min ago\)\. Get a fresh one\.$/);
    expect(failures.audience).toBe(
      '✗ Failed audience — The token\'s audience is "another-api"; expected "zavu-gateway".',
    );
    expect(failures.stranger).toMatch(new RegExp(`^✗ Failed signature — No key has kid "${stranger.kid}"`));
    await expectUnchanged(link.id, idp.issuer);
    expect(browser.problems).toEqual([]);
  });

  it("a used link and a revoked link: a clear page, no form", async () => {
    const idp = await NodeIdp.create("https://idp.test/once");
    const used = await newLink();
    const done = await fetch(`${gateway}/onboard/v1/${used.url.split("/").pop()}/complete`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identity: { issuer: idp.issuer, jwks: idp.jwks() }, token: await idp.token() }),
    });
    expect(done.status).toBe(201);
    const page = await browser.page();
    const res = await page.goto(used.url);
    expect(res!.status()).toBe(410);
    await page.getByRole("heading", { name: "This link has already been used" }).waitFor();
    expect(await page.locator("form").count()).toBe(0);
    await shot(page, "portal-link-used");

    const revoked = await newLink();
    const console = await browser.page();
    await console.goto(`${gateway}/console#/links?status=pending`);
    await console.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await console.getByRole("button", { name: "Sign in" }).click();
    await console.getByRole("button", { name: `Revoke ${revoked.id}` }).click();
    await console.getByText(`Revoked ${revoked.id}: its portal no longer opens.`).waitFor();
    expect((await page.goto(revoked.url))!.status()).toBe(410);
    await page.getByRole("heading", { name: "This link has been revoked" }).waitFor();
    expect(await page.locator("form").count()).toBe(0);
    expect(browser.problems).toEqual([]);
  });
});

describe("browser: bad input in the console", () => {
  it("a wrong token, a bad amount, a mistyped name: told plainly, nothing changed", async () => {
    const page = await browser.page();
    await page.goto(`${gateway}/console`);
    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expectAlert(page, "That admin token was not accepted. Sign in again.");
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();

    const before = (await admin(gateway, "GET", "/onboarding-links?limit=100")).body.items.length;
    await page.goto(`${gateway}/console#/links`);
    await page.getByLabel("Credit limit (USD; empty for no cap)").fill("fifty");
    await page.getByRole("button", { name: "Create onboarding link" }).click();
    await expectAlert(page, "Credit limit: give an amount in USD, like 250 or 99.50.");
    expect((await admin(gateway, "GET", "/onboarding-links?limit=100")).body.items.length).toBe(before);

    const idp = await NodeIdp.create();
    const { body } = await admin(gateway, "POST", "/tenants", {
      body: { name: "Keep Me", identity: { issuer: idp.issuer, jwks: idp.jwks() } },
    });
    await page.goto(`${gateway}/console#/tenants/${body.tenant.id}`);
    await page.getByLabel("Type the tenant's name (Keep Me) to confirm").fill("Keep me");
    await page.getByRole("button", { name: "Deactivate tenant" }).click();
    await expectAlert(page, "The name typed does not match; nothing was changed.");
    await page.getByLabel("Metadata (JSON object)").fill("{not json");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expectAlert(page, 'Metadata: give a JSON object, like {"plan": "pro"}.');
    await shot(page, "console-error");
    expect((await admin(gateway, "GET", `/tenants/${body.tenant.id}`)).body.tenant).toMatchObject({
      status: "active",
      metadata: null,
    });
    expect(browser.problems).toEqual([]);
  });
});
