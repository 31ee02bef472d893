// A cross-site form post, in a real browser: a page on another origin submits a form to the gateway's
// admin API and console, as a site could to a person signed in through Cloudflare Access (whose cookie
// Access would turn into an assertion). The gateway refuses it before any authentication.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, type Cluster, startCluster } from "../harness/cluster";
import { type Browser, launch } from "./browser";

let cluster: Cluster;
let browser: Browser;
let gateway: string;
let attacker: Server;
let attackerOrigin: string;
let page = "";

beforeAll(async () => {
  cluster = await startCluster({ isolates: 1 });
  gateway = cluster.gateways[0]!;
  browser = await launch();
  attacker = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
  });
  await new Promise<void>((ok) => attacker.listen(0, "127.0.0.1", ok));
  // Another host name for the same machine: another site, as the browser sees it.
  attackerOrigin = `http://localhost:${(attacker.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
  attacker?.close();
});

/** The attacker's page: a form that posts itself to `action` as soon as it loads. */
function formPage(action: string, fields: string) {
  return `<!doctype html><form id="f" method="post" action="${action}" enctype="text/plain">${fields}</form>
<script>document.getElementById("f").submit()</script>`;
}

describe("cross-site form posts are refused", () => {
  for (const [name, path, fields] of [
    [
      "an admin API key made for the attacker",
      "/admin/v1/api-keys",
      `<input name='{"name":"pwned","role":"admin","x":"' value='"}'>`,
    ],
    ["an onboarding link from the console", "/console/f/links", `<input name="name" value="pwned">`],
  ] as const) {
    it(name, async () => {
      page = formPage(`${gateway}${path}`, fields);
      const tab = await browser.page();
      const seen: { origin?: string; site?: string; status?: number } = {};
      tab.on("response", async (r) => {
        if (r.url() !== `${gateway}${path}`) return;
        const h = await r.request().allHeaders();
        Object.assign(seen, { origin: h.origin, site: h["sec-fetch-site"], status: r.status() });
      });
      await Promise.all([tab.waitForURL(`${gateway}${path}`), tab.goto(attackerOrigin)]);
      await tab.waitForLoadState();
      expect(seen.origin).toBe(attackerOrigin);
      expect(seen.site).toBe("cross-site");
      expect(seen.status).toBe(403);
      expect(await tab.textContent("body")).toContain("cross_site_request");
      await tab.close();
    });
  }

  it("nothing was made", async () => {
    const keys = await admin(gateway, "GET", "/api-keys");
    expect(keys.body.items).toEqual([]);
    const links = await admin(gateway, "GET", "/onboarding-links");
    expect(links.body.items).toEqual([]);
  });
});
