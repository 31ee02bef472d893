// The whole journey in a real browser: the reseller's console makes a link, the customer's admin
// completes the portal against a test IdP, the customer's app sends through the SDK with its own JWT,
// the console shows the spend, a setup link swaps the identity provider, and a suspension bites.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, type Cluster, customer, startCluster } from "../harness/cluster";
import { NodeIdp } from "../harness/idp";
import { type Browser, expectUsable, launch, publishProvider, shot } from "./browser";

let cluster: Cluster;
let browser: Browser;
let gateway: string;
let otherIsolate: string;

beforeAll(async () => {
  cluster = await startCluster({ isolates: 2 });
  [gateway, otherIsolate] = cluster.gateways as [string, string];
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function signIn(page: Page) {
  await page.goto(`${gateway}/console`);
  await expect.poll(() => page.getByLabel("Admin token").isVisible()).toBe(true);
  await shot(page, "console-sign-in");
  await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
}

/** The customer's admin, in their own tab: provider, discovery, a test token, then `finish`. */
async function completePortal(page: Page, url: string, idp: NodeIdp, screenshots: string | null, finish: string) {
  await page.goto(url);
  if (screenshots) await shot(page, `${screenshots}-provider`);
  await page.getByLabel("Any OpenID Connect provider").check();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Issuer URL").fill(idp.issuer);
  await page.getByRole("button", { name: "Find keys" }).click();
  await page.getByRole("cell", { name: idp.kid }).waitFor();
  await expectUsable(page);
  if (screenshots) await shot(page, `${screenshots}-keys`);
  await page.getByLabel("Audience (optional)").fill("zavu-gateway");
  await page.getByLabel("A token from your provider").fill(await idp.token({ aud: "zavu-gateway" }));
  await page.getByRole("button", { name: "Test connection" }).click();
  await page.getByRole("heading", { name: "4. The token passes every check" }).waitFor();
  if (screenshots) await shot(page, `${screenshots}-tested`);
  await page.getByRole("button", { name: finish }).click();
  await page.locator("#gateway-url").waitFor();
  await expectUsable(page);
  if (screenshots) await shot(page, `${screenshots}-done`);
  return (await page.locator("#gateway-url").textContent())!;
}

describe("browser: onboarding through the console and the portal", () => {
  let tenantId: string;
  let idp: NodeIdp;
  let console: Page;

  it("the reseller makes a link in the console; the customer goes live; its app sends with its own JWT; the console shows the spend", async () => {
    idp = await NodeIdp.create("https://idp.test/acme-robotics");
    await publishProvider(cluster, idp, "acme-robotics");

    console = await browser.page();
    await signIn(console);
    await expectUsable(console);
    await shot(console, "console-overview");

    await console.getByRole("link", { name: "Onboarding links" }).click();
    await console.getByRole("heading", { name: "Onboarding links" }).waitFor();
    await console.getByLabel("Customer name").fill("Acme Robotics");
    await console.getByLabel("Your reference (external ID)").fill("crm-4711");
    await console.getByLabel("Credit limit (USD; empty for no cap)").fill("50");
    await console.getByRole("button", { name: "Create onboarding link" }).click();
    const linkField = console.locator("#new-link-url");
    await linkField.waitFor();
    const url = await linkField.inputValue();
    expect(url).toMatch(new RegExp(`^${gateway}/onboard/[A-Za-z0-9_-]{43}$`));
    await console.getByRole("button", { name: "Copy link" }).click();
    await console.getByRole("button", { name: "Copied" }).waitFor();
    expect(await console.evaluate("navigator.clipboard.readText()")).toBe(url);
    await expectUsable(console);
    await shot(console, "console-link-created");

    const portal = await browser.page();
    const gatewayUrl = await completePortal(portal, url, idp, "portal", "Activate");
    expect(gatewayUrl).toBe(gateway);
    expect(await portal.getByRole("heading", { name: "You are live" }).isVisible()).toBe(true);

    const tenants = (await admin(gateway, "GET", "/tenants?externalId=crm-4711")).body.items;
    expect(tenants).toHaveLength(1);
    expect(tenants[0]).toMatchObject({ name: "Acme Robotics", status: "active", creditLimit: 5000 });
    tenantId = tenants[0].id;

    const { message } = await customer(gatewayUrl, await idp.token({ aud: "zavu-gateway" })).messages.send({
      to: "+15551234567",
      text: "Hello from Acme",
    });
    expect(message.id).toBeTruthy();

    await console.goto(`${gateway}/console#/tenants`);
    await console.getByLabel("Search by name or external ID").fill("acme");
    await console.getByRole("button", { name: "Search" }).click();
    await console.getByRole("link", { name: "Acme Robotics" }).waitFor();
    await shot(console, "console-tenants");
    await console.getByRole("link", { name: "Acme Robotics" }).click();
    await console.getByRole("heading", { name: /Acme Robotics/ }).waitFor();
    expect(await console.getByText("$0.01 of $50.00").isVisible()).toBe(true);
    expect(await console.getByText("tenant.provision.completed").isVisible()).toBe(true);
    await expectUsable(console);
    await shot(console, "console-tenant");
  });

  it("a setup link from the tenant page replaces the identity provider: the old issuer stops working", async () => {
    const next = await NodeIdp.create("https://idp.test/acme-robotics-okta");
    await publishProvider(cluster, next, "acme-robotics-okta");
    await console.getByRole("button", { name: "Create setup link" }).click();
    const url = await console.locator("#new-link-url").inputValue();
    expect(url).toContain("/onboard/");

    const portal = await browser.page();
    await completePortal(portal, url, next, null, "Replace identity provider");
    await portal.getByRole("heading", { name: "Identity provider replaced" }).waitFor();

    const old = customer(gateway, await idp.token({ aud: "zavu-gateway" }));
    await expect(old.balance.retrieve()).rejects.toMatchObject({ status: 401 });
    const fresh = customer(gateway, await next.token({ aud: "zavu-gateway" }));
    expect((await fresh.balance.retrieve()).totalSpent).toBe(1);
    expect((await admin(gateway, "GET", `/tenants/${tenantId}`)).body.tenant.identity.issuer).toBe(next.issuer);
    idp = next;
  });

  it("suspending in the console blocks the customer's next send with 403", async () => {
    await console.goto(`${gateway}/console#/tenants/${tenantId}`);
    await console.getByRole("button", { name: "Suspend" }).click();
    await console.getByText("Suspended: messaging is blocked.").waitFor();
    await shot(console, "console-tenant-suspended");
    const app = customer(gateway, await idp.token({ aud: "zavu-gateway" }));
    await expect(app.messages.send({ to: "+15551234567", text: "blocked?" })).rejects.toMatchObject({
      status: 403,
      error: { code: "tenant_suspended" },
    });
    // Another isolate of the same deployment: Zavu itself refuses the suspended sub-account.
    const elsewhere = customer(otherIsolate, await idp.token({ aud: "zavu-gateway" }));
    await expect(elsewhere.messages.send({ to: "+15551234567", text: "blocked?" })).rejects.toMatchObject({
      status: 403,
    });
    expect(browser.problems).toEqual([]);
  });

  it("reads at 390 px wide", async () => {
    const phone = await browser.page({ width: 390, height: 844 });
    await signIn(phone);
    await phone.goto(`${gateway}/console#/tenants`);
    await phone.getByRole("link", { name: "Acme Robotics" }).waitFor();
    await expectUsable(phone);
    await shot(phone, "console-tenants-390");
    await phone.goto(`${gateway}/console#/tenants/${tenantId}`);
    await phone.getByRole("heading", { name: /Acme Robotics/ }).waitFor();
    await expectUsable(phone);
    await shot(phone, "console-tenant-390");
    const { body } = await admin(gateway, "POST", "/onboarding-links", { body: { name: "Phone Co" } });
    await phone.goto(body.link.url);
    await phone.getByLabel("Any OpenID Connect provider").check();
    await phone.getByRole("button", { name: "Continue" }).click();
    await phone.getByLabel("Issuer URL").waitFor();
    await expectUsable(phone);
    await shot(phone, "portal-settings-390");
    expect(browser.problems).toEqual([]);
  });
});
