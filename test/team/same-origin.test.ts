import { describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { gatewayFetch } from "../helpers/gateway";

const body = JSON.stringify({ name: "x", role: "bogus" }); // 400 once past the origin check: nothing is made

describe("browsers must prove a change comes from the gateway's own pages", () => {
  it("refuses a change from another site (Origin, or Sec-Fetch-Site), before authentication", async () => {
    for (const headers of [
      { origin: "https://evil.example" },
      { origin: "null" },
      { origin: "http://gateway.test" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { "cf-access-jwt-assertion": "x" },
      { cookie: "CF_Authorization=x" },
      // Sec-Fetch-Site, when a browser sends it, decides: an Origin that looks like ours does not outvote it.
      { origin: "https://gateway.test", "sec-fetch-site": "cross-site" },
    ] as Record<string, string>[]) {
      const res = await admin("POST", "/api-keys", { body, token: null, headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.body.code).toBe("cross_site_request");
    }
    const console = await gatewayFetch("/console/f/links", {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
      body: "name=x",
    });
    expect(console.status).toBe(403);
  });

  it("lets same-origin browsers, and scripts that send none of these headers, through", async () => {
    for (const headers of [
      {},
      { origin: "https://gateway.test" },
      { "sec-fetch-site": "same-origin" },
      { "sec-fetch-site": "none" },
      { origin: "https://gateway.test", "sec-fetch-site": "same-origin" },
    ] as Record<string, string>[]) {
      const res = await admin("POST", "/api-keys", { body, headers });
      expect(res.status, JSON.stringify(headers)).toBe(400);
    }
  });

  it("a Bearer credential is never a browser's (a cross-site page cannot send one without a CORS preflight, never allowed): a script behind Access with a key goes on", async () => {
    for (const headers of [
      { "cf-access-jwt-assertion": "from-a-service-token" },
      { cookie: "CF_Authorization=x" },
      { origin: "https://evil.example" },
    ] as Record<string, string>[]) {
      const res = await admin("POST", "/api-keys", { body, headers });
      expect(res.status, JSON.stringify(headers)).toBe(400);
    }
    // A browser attaches Basic credentials by itself: those prove nothing.
    const basic = await admin("POST", "/api-keys", {
      body,
      token: null,
      headers: { origin: "https://evil.example", authorization: "Basic dXNlcjpwYXNz" },
    });
    expect(basic.status).toBe(403);
  });

  it("reads are not changes: a cross-site GET is answered as usual", async () => {
    expect((await admin("GET", "/tenants", { headers: { origin: "https://evil.example" } })).status).toBe(200);
  });
});
