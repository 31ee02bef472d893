// Crafted console links, in a real browser: the admin signs in to the console through a link someone
// else wrote. Whatever the fragment holds, the console fetches only its own routes, renders only HTML
// fragments from /console/f/, and posts forms only to its own actions.
import type { Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, type Cluster, sleep, startCluster } from "../harness/cluster";
import { NodeIdp } from "../harness/idp";
import { type Browser, launch, shot } from "./browser";

let cluster: Cluster;
let browser: Browser;
let gateway: string;
let tenantId: string;

beforeAll(async () => {
  cluster = await startCluster({ isolates: 1 });
  gateway = cluster.gateways[0]!;
  browser = await launch();
  const idp = await NodeIdp.create();
  const res = await admin(gateway, "POST", "/tenants", {
    body: { name: "Target Co", identity: { issuer: idp.issuer, jwks: idp.jwks() } },
  });
  expect(res.status).toBe(201);
  tenantId = res.body.tenant.id;
});
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** What the console may ask for: its page, and the fragments app.tsx serves. */
const KNOWN = [
  /^GET \/console$/,
  /^GET \/console\/f\/(overview|tenants|links|tenants\/tnt_[0-9a-z]{26})(\?[^/]*)?$/,
  /^POST \/console\/f\/(links|links\/lnk_[0-9a-z]{26}\/revoke)$/,
  /^POST \/console\/f\/tenants\/tnt_[0-9a-z]{26}\/(update|status|rotate-key|deactivate|setup-link)$/,
];

/** Every request the tab makes, as "METHOD /path?query" for the gateway and "METHOD url" for anything else. */
function recordRequests(page: Page): string[] {
  const requests: string[] = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.protocol === "data:") return;
    requests.push(`${r.method()} ${url.origin === gateway ? url.pathname + url.search : url.href}`);
  });
  return requests;
}

const unknown = (requests: string[]) => requests.filter((r) => !KNOWN.some((k) => k.test(r)));

/** Opens `hash` in a fresh tab (nothing in its session storage) and signs in there, as the admin would. */
async function openAndSignIn(hash: string) {
  const page = await browser.page();
  const requests = recordRequests(page);
  await page.goto(`${gateway}/console${hash}`);
  const url = page.url();
  await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await settled(page);
  return { page, requests, url };
}

/** The view shows something and no fetch is under way (or the tab has left the console). */
async function settled(page: Page): Promise<void> {
  // Polled with evaluate: waitForFunction would compile its string in the page, which the CSP refuses.
  const check = `(() => {
    const view = document.getElementById("view");
    return !view || (!view.hidden && view.childNodes.length > 0 && !view.hasAttribute("aria-busy"));
  })()`;
  await expect.poll(() => page.evaluate(check), { timeout: 10_000 }).toBe(true);
}

const notFound = (page: Page) => page.getByRole("heading", { name: "Not found" }).waitFor({ timeout: 5000 });
const alert = async (page: Page) => (await page.getByRole("alert").allTextContents()).map((a) => a.trim());

// The attacker's form: it posts a suspension of the tenant through the console's own action.
const lure = () =>
  `#/<form method=post action=/console/f/tenants/${tenantId}/status>` +
  "<input type=hidden name=status value=inactive><p>Your session expired.</p><button>Continue</button></form>";

describe("browser: crafted console links", () => {
  it("a link carrying a form: no form shows, nothing outside the console's routes is fetched", async () => {
    const { page, requests } = await openAndSignIn(lure());
    expect(await page.locator("#view form").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Continue" }).count()).toBe(0);
    await notFound(page);
    expect(await page.title()).toBe("Not found · Zavu gateway console");
    await shot(page, "console-link-not-found");
    expect(unknown(requests)).toEqual([]);
    expect(requests.filter((r) => r.includes("/console/f/"))).toEqual([]);
    expect(browser.problems).toEqual([]);
  });

  it("the admin clicks whatever such a link shows: the tenant's status is unchanged", async () => {
    const { page, requests } = await openAndSignIn(lure());
    const button = page.getByRole("button", { name: "Continue" });
    if (await button.count()) await button.click(); // what the admin would do, were it there
    await sleep(500);
    await settled(page);
    expect((await admin(gateway, "GET", `/tenants/${tenantId}`)).body.tenant.status).toBe("active");
    expect(requests.filter((r) => r.startsWith("POST"))).toEqual([]);
  });

  it("#/../../admin/v1/tenants does not reach the admin API", async () => {
    const { page, requests } = await openAndSignIn("#/../../admin/v1/tenants");
    expect(requests.filter((r) => r.includes("/admin"))).toEqual([]);
    expect(unknown(requests)).toEqual([]);
    await notFound(page);
    expect(await page.locator("#view").textContent()).not.toContain(tenantId);
  });

  it("a meta refresh in the link does not move the tab", async () => {
    // Unquoted: the old 404 echoed the path inside JSON, where quotes came out as \".
    const { page, requests, url } = await openAndSignIn(
      "#/<meta http-equiv=refresh content=0;url=http://127.0.0.1:9/>",
    );
    await sleep(1500);
    expect(page.url()).toBe(url);
    expect(await page.locator("#view meta").count()).toBe(0);
    expect(unknown(requests)).toEqual([]);
  });

  it("dotted and percent-escaped routes show the not-found view, with no fetch", async () => {
    const { page, requests } = await openAndSignIn("#/overview");
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    for (const hash of [
      "#/tenants/../overview",
      "#/./overview",
      "#/overview/",
      "#/overview/..",
      "#/%6Fverview",
      "#/tenants%2F..%2Foverview",
      "#/%2e%2e/%2e%2e/admin/v1/tenants",
      `#/tenants/${tenantId}/../../overview`,
      `#/tenants/${tenantId}%3Fq=x`,
      `#/tenants/${tenantId}/status`,
      "#/tenants/tnt_../../overview",
      "#/",
    ]) {
      await page.goto(`${gateway}/console#/links`);
      await page.getByRole("heading", { name: "Onboarding links" }).waitFor();
      const before = requests.length;
      await page.goto(`${gateway}/console${hash}`);
      await notFound(page);
      expect(requests.slice(before), hash).toEqual([]);
    }
    expect(unknown(requests)).toEqual([]);
    expect(browser.problems).toEqual([]);
  });

  it("a query stays a query: it is re-serialised and cannot change the path", async () => {
    const { page, requests } = await openAndSignIn("#/tenants?q=Target/../../../admin/v1/tenants&status=#x");
    await page.getByRole("heading", { name: "Tenants" }).waitFor();
    expect(await page.getByLabel("Search by name or external ID").inputValue()).toBe(
      "Target/../../../admin/v1/tenants",
    );
    expect(requests.filter((r) => r.includes("/console/f/"))).toEqual([
      "GET /console/f/tenants?q=Target%2F..%2F..%2F..%2Fadmin%2Fv1%2Ftenants&status=%23x",
    ]);
    expect(unknown(requests)).toEqual([]);
  });
});

describe("browser: what the console renders and posts", () => {
  /** Signs in on #/overview with the gateway's answer for /console/f/overview replaced by `answer`. */
  async function overviewAnswering(answer: Parameters<Route["fulfill"]>[0]) {
    const page = await browser.page();
    const requests = recordRequests(page);
    await page.route(`${gateway}/console/f/overview`, (route) => route.fulfill(answer));
    await page.goto(`${gateway}/console#/overview`);
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await settled(page);
    return { page, requests };
  }

  it("a JSON answer, or any other type than HTML, is not rendered as markup", async () => {
    const markup = "<form method=post action=/console/f/links><button>Continue</button></form>";
    for (const [contentType, body] of [
      ["application/json", JSON.stringify({ code: "not_found", message: markup })],
      ["text/plain", markup],
      ["image/svg+xml", `<svg xmlns="http://www.w3.org/2000/svg">${markup}</svg>`],
    ]) {
      const { page } = await overviewAnswering({ status: 404, contentType, body });
      expect(await page.getByRole("button", { name: "Continue" }).count(), contentType).toBe(0);
      expect(await page.locator("#view form").count(), contentType).toBe(0);
      expect(await alert(page)).toEqual(["The gateway's answer could not be shown (HTTP 404)."]);
      await page.close();
    }
    expect(browser.problems).toEqual([]);
  });

  it("a redirect is not followed", async () => {
    const { page, requests } = await overviewAnswering({
      status: 302,
      headers: { location: `${gateway}/admin/v1/tenants` },
    });
    expect(requests.filter((r) => r.includes("/admin"))).toEqual([]);
    expect(await page.locator("#view").textContent()).not.toContain(tenantId);
    expect(await alert(page)).toEqual(["The gateway could not be reached."]);
  });

  it("a form in a fragment posts only to the console's own actions", async () => {
    for (const action of [
      `/console/f/../../admin/v1/tenants/${tenantId}/rotate-key`,
      `/admin/v1/tenants/${tenantId}/rotate-key`,
      "https://example.invalid/console/f/links",
      `/console/f/tenants/${tenantId}/status/..`,
      `/console/f/tenants/${tenantId}%2Fstatus`,
      "/console/f/overview",
      "",
    ]) {
      const { page, requests } = await overviewAnswering({
        status: 200,
        contentType: "text/html; charset=UTF-8",
        body: `<section data-title="Overview"><h1>Overview</h1><form method="post" action="${action}"><input type="hidden" name="status" value="inactive"><button>Go</button></form></section>`,
      });
      await page.getByRole("button", { name: "Go" }).click();
      await expect
        .poll(() => alert(page), { message: action })
        .toEqual(["This form does not go to the console; it was not sent."]);
      expect(
        requests.filter((r) => !r.startsWith("GET")),
        action,
      ).toEqual([]);
      await page.close();
    }
    expect((await admin(gateway, "GET", `/tenants/${tenantId}`)).body.tenant).toMatchObject({ status: "active" });
    expect(browser.problems).toEqual([]);
  });

  it("a button's formaction cannot send a console form elsewhere", async () => {
    const { page, requests } = await overviewAnswering({
      status: 200,
      contentType: "text/html; charset=UTF-8",
      body: `<section data-title="Overview"><h1>Overview</h1><form method="post" action="/console/f/tenants/${tenantId}/update"><input type="hidden" name="name" value="x"><button formaction="/admin/v1/tenants/${tenantId}/rotate-key">Go</button></form></section>`,
    });
    await page.getByRole("button", { name: "Go" }).click();
    await expect.poll(() => alert(page)).toEqual(["This form does not go to the console; it was not sent."]);
    expect(requests.filter((r) => !r.startsWith("GET"))).toEqual([]);
    await page.close();
    expect(browser.problems).toEqual([]);
  });

  it("the Trusted Types policy refuses markup that does not come from /console/f/", async () => {
    for (const url of ["", "https://example.invalid/console/f/overview", `${gateway}/admin/v1/tenants`]) {
      const page = await browser.page();
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(err.message));
      // An HTML answer that claims another address (a constructed Response has none of its own).
      await page.addInitScript(`window.fetch = async () => {
        const res = new Response("<button>Continue</button>", { headers: { "content-type": "text/html" } });
        Object.defineProperty(res, "url", { value: ${JSON.stringify(url)} });
        return res;
      };`);
      await page.goto(`${gateway}/console#/overview`);
      await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => errors, { message: url }).toEqual(["Only the console's fragments are rendered."]);
      expect(await page.getByRole("button", { name: "Continue" }).count(), url).toBe(0);
      await page.close();
    }
    // The harness collects the refusals too: they were expected here.
    expect(browser.problems.splice(0)).toEqual(Array(3).fill("Only the console's fragments are rendered."));
  });
});
