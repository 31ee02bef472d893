// The portal completed with the keyboard alone: Tab, arrows, Space, Enter and typing; no clicks.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { admin, type Cluster, customer, startCluster } from "../harness/cluster";
import { NodeIdp } from "../harness/idp";
import { type Browser, launch, publishProvider, shot } from "./browser";

let cluster: Cluster;
let browser: Browser;

beforeAll(async () => {
  cluster = await startCluster({ isolates: 1 });
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** What has the focus: its tag and its accessible label (or text). */
function focused(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const el = document.activeElement;
    const label = el.labels?.[0]?.textContent ?? el.getAttribute("aria-label") ?? el.textContent;
    return el.tagName.toLowerCase() + ": " + (label ?? "").trim().replace(/\\s+/g, " ").slice(0, 60);
  })()`);
}

/** Presses Tab until the focus is on `target` (at most 15 times), as a keyboard user would. */
async function tabTo(page: Page, target: string): Promise<void> {
  for (let i = 0; i < 15; i++) {
    if ((await focused(page)) === target) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached "${target}"; focus is on "${await focused(page)}"`);
}

it("completes the portal with the keyboard only", async () => {
  const gateway = cluster.gateways[0]!;
  const idp = await NodeIdp.create("https://idp.test/keyboard-co");
  await publishProvider(cluster, idp, "keyboard-co");
  const { body } = await admin(gateway, "POST", "/onboarding-links", { body: { name: "Keyboard Co" } });
  const page = await browser.page();
  await page.goto(body.link.url);

  // The first provider has the focus; the arrows move through the group to the last one.
  expect(await focused(page)).toBe("input: Auth0");
  for (let i = 0; i < 10; i++) await page.keyboard.press("ArrowDown");
  expect(await focused(page)).toBe("input: Any OpenID Connect provider");
  await page.keyboard.press("Enter");
  await page.waitForURL(/provider=oidc/);

  // The issuer field has the focus; Enter submits "Find keys".
  expect(await focused(page)).toBe("input: Issuer URL");
  await page.keyboard.type(idp.issuer);
  await page.keyboard.press("Enter");
  await page.getByRole("cell", { name: idp.kid }).waitFor();

  expect(await focused(page)).toBe("input: Audience (optional)");
  await page.keyboard.type("zavu-gateway");
  await tabTo(page, "textarea: A token from your provider");
  await page.keyboard.type(await idp.token({ aud: "zavu-gateway" }));
  await tabTo(page, "button: Test connection");
  await shot(page, "portal-keyboard-focus");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "4. The token passes every check" }).waitFor();

  expect(await focused(page)).toBe("input: Your organization's name");
  await tabTo(page, "button: Activate");
  await page.keyboard.press("Space");
  await page.getByRole("heading", { name: "You are live" }).waitFor();
  expect(await focused(page)).toBe("h2: You are live");

  const tenants = (await admin(gateway, "GET", "/tenants")).body.items;
  expect(tenants.map((t: { name: string }) => t.name)).toEqual(["Keyboard Co"]);
  const { message } = await customer(gateway, await idp.token({ aud: "zavu-gateway" })).messages.send({
    to: "+15551234567",
    text: "typed, not clicked",
  });
  expect(message.id).toBeTruthy();
  expect(browser.problems).toEqual([]);
});

it("shows where the focus is, and the skip link comes first", async () => {
  const page = await browser.page();
  await page.goto(`${cluster.gateways[0]}/console`);
  await page.getByLabel("Admin token").waitFor();
  expect(await focused(page)).toBe("input: Admin token"); // the console puts the focus on sign-in
  const outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle");
  expect(outline).toBe("solid");
  await page.keyboard.press("Shift+Tab");
  expect(await focused(page)).toBe("a: Skip to content");
});
