import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createConsoleApp } from "../../src/console/app";
import { ACTIONS, DOWNLOADS, PAGES } from "../../src/console/client";
import { ADMIN_TOKEN, admin, tenantBody } from "../helpers/admin";
import { expectApiError, gatewayClient, gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { MAIN_KEY, sandbox } from "../helpers/sandbox";

beforeAll(async () => {
  await sandbox.reset();
});

/** A console fragment, fetched as the console's script does: the admin token as a Bearer header. */
async function fragment(path: string, opts: { form?: Record<string, string>; token?: string | null } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? ADMIN_TOKEN}`;
  if (opts.form) headers["content-type"] = "application/x-www-form-urlencoded";
  const res = await gatewayFetch(`/console/f${path}`, {
    method: opts.form ? "POST" : "GET",
    headers,
    body: opts.form ? new URLSearchParams(opts.form).toString() : undefined,
  });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

async function newTenant(name: string, extra: Record<string, unknown> = {}) {
  const idp = await TestIdp.create(`https://${crypto.randomUUID()}.console.example`);
  const res = await admin("POST", "/tenants", {
    body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }, { name, ...extra }),
  });
  expect(res.status, res.text).toBe(201);
  return { tenant: res.body.tenant, idp };
}

const SECRETS = [ADMIN_TOKEN, "test-admin-token-b", MAIN_KEY, env.KEY_ENCRYPTION_KEY];

describe("console: the page and its guard", () => {
  it("serves one static page under a strict CSP whose nonce its only script carries", async () => {
    const res = await gatewayFetch("/console");
    expect(res.status).toBe(200);
    const html = await res.text();
    const csp = res.headers.get("content-security-policy")!;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).toContain("trusted-types console-fragments");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect([...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1])).toEqual([` nonce="${nonce}"`]);
    expect(html).toContain('<label for="token">Admin token</label>');
    // A fresh nonce per response.
    const again = (await gatewayFetch("/console")).headers.get("content-security-policy")!;
    expect(again).not.toBe(csp);
    for (const s of SECRETS) expect(html).not.toContain(s);
  });

  it("answers fragments only to the admin token, sent as a Bearer header; a cookie does nothing", async () => {
    expect((await fragment("/overview", { token: null })).status).toBe(401);
    expect((await fragment("/overview", { token: "wrong" })).status).toBe(401);
    const cookie = await gatewayFetch("/console/f/overview", { headers: { cookie: `token=${ADMIN_TOKEN}` } });
    expect(cookie.status).toBe(401);
    const ok = await fragment("/overview");
    expect(ok.status).toBe(200);
    expect(ok.html).toContain("Team balance");
  });

  it("its script knows every fragment and action the console serves (and fetches nothing else: test/node/browser)", () => {
    const routes = createConsoleApp().routes.filter((r) => r.path.startsWith("/f/") && r.method !== "ALL");
    expect(routes).not.toHaveLength(0);
    for (const { method, path } of routes) {
      const prefix = path.startsWith("/f/links/")
        ? "lnk"
        : path.startsWith("/f/webhooks/")
          ? "whk"
          : path.startsWith("/f/api-keys/")
            ? "gk"
            : "tnt";
      const sample = path
        .slice("/f".length)
        .replace(":id", `${prefix}_${"0".repeat(26)}`)
        .replace(":numberId", "pn_0")
        .replace(":deliveryId", `edl_${"0".repeat(26)}`);
      const known = method === "GET" ? PAGES.test(sample) || DOWNLOADS.test(sample) : ACTIONS.test(sample);
      expect(known, `${method} ${path}`).toBe(true);
      // A download is never a page the script would render, nor a page a download.
      expect(PAGES.test(sample) && DOWNLOADS.test(sample), `${method} ${path}`).toBe(false);
    }
  });

  it("answers an unknown path with JSON that does not repeat the path", async () => {
    for (const path of [
      "/console/f/<form action=/console/f/x><button>Continue</button></form>",
      "/console/f/%3Cmeta%20http-equiv=refresh%20content=0;url=http://127.0.0.1:9/%3E",
      "/console/f/overview/<img src=x>?<b>query</b>",
      "/admin/v1/<script>alert(1)</script>",
      "/onboard/some/<i>thing</i>",
      "/<svg onload=alert(1)>",
    ]) {
      const res = await gatewayFetch(path, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const body = await res.text();
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toMatch(/^application\/json/);
      expect(body, path).not.toMatch(/<|%3C|Continue|meta|img|query|script|thing|svg/i);
      expect(JSON.parse(body), path).toEqual({ code: "not_found", message: "No route for GET at this path." });
    }
  });
});

describe("console: tenants", () => {
  it("lists and searches tenants with status, limit and spend; pages by cursor", async () => {
    const { tenant, idp } = await newTenant("Zebra Logistics", { externalId: "crm-zebra", creditLimit: 1000 });
    await gatewayClient(await idp.token()).messages.send({ to: "+15551234567", text: "hi" });
    for (let i = 0; i < 3; i++) await newTenant(`Yak Foods ${i}`);

    const byName = await fragment("/tenants?q=zebra");
    expect(byName.html).toContain(`href="#/tenants/${tenant.id}">Zebra Logistics</a>`);
    expect(byName.html).not.toContain("Yak Foods");
    // The list shows the spend ledger's copy (KV), as the admin API's listing does; 1,000 cents is the limit.
    const copy = await env.CACHE.get<{ spent: number }>(`spend:${tenant.id}`, "json");
    expect(copy).not.toBeNull();
    expect(byName.html).toMatch(new RegExp(`<meter[^>]*max="1000"[^>]*value="${copy!.spent}"`));
    expect(byName.html).toContain(`$${(copy!.spent / 100).toFixed(2)} of $10.00`);
    // The tenant page asks Zavu: the send is there.
    expect((await fragment(`/tenants/${tenant.id}`)).html).toContain("$0.01 of $10.00");
    expect((await fragment("/tenants?q=crm-ze")).html).toContain("Zebra Logistics");
    expect((await fragment("/tenants?q=YAK")).html.match(/Yak Foods/g)).toHaveLength(3);
    expect((await fragment("/tenants?status=inactive")).html).toContain("No tenants match.");

    const all = await fragment("/tenants");
    expect(all.html).not.toContain("Next page"); // 4 tenants, one page
    for (const s of SECRETS) expect(all.html).not.toContain(s);
  });

  it("edits name, credit limit and metadata through the admin API's own lifecycle", async () => {
    const { tenant } = await newTenant("Editable");
    const res = await fragment(`/tenants/${tenant.id}/update`, {
      form: { name: "Edited Inc", creditLimit: "250.50", metadata: '{"plan":"gold"}' },
    });
    expect(res.status).toBe(200);
    expect(res.html).toContain("Saved.");
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant).toMatchObject({
      name: "Edited Inc",
      creditLimit: 25050,
      metadata: { plan: "gold" },
    });

    const bad = await fragment(`/tenants/${tenant.id}/update`, {
      form: { name: "Should not stick", creditLimit: "12", metadata: "[1,2]" },
    });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain("Metadata: give a JSON object, like {&quot;plan&quot;: &quot;pro&quot;}.");
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.name).toBe("Edited Inc");
  });

  it("suspends (the customer's next send gets 403) and reactivates", async () => {
    const { tenant, idp } = await newTenant("Suspendable");
    const res = await fragment(`/tenants/${tenant.id}/status`, { form: { status: "inactive" } });
    expect(res.html).toContain("Suspended: messaging is blocked.");
    expect(res.html).toContain(">Reactivate<");
    await expectApiError(
      gatewayClient(await idp.token()).messages.send({ to: "+15551234567", text: "x" }),
      403,
      "tenant_suspended",
    );
    await fragment(`/tenants/${tenant.id}/status`, { form: { status: "active" } });
    const { message } = await gatewayClient(await idp.token()).messages.send({ to: "+15551234567", text: "x" });
    expect(message.id).toBeTruthy();
  });

  it("rotates the key and shows only its prefix", async () => {
    const { tenant } = await newTenant("Rotator");
    const res = await fragment(`/tenants/${tenant.id}/rotate-key`, { form: {} });
    const after = (await admin("GET", `/tenants/${tenant.id}`)).body.tenant;
    expect(after.keyPrefix).not.toBe(tenant.keyPrefix);
    expect(res.html).toContain(`New key ${after.keyPrefix}… in use; the previous one is revoked.`);
  });

  it("deactivates only after the name is typed", async () => {
    const { tenant } = await newTenant("Doomed Co");
    const wrong = await fragment(`/tenants/${tenant.id}/deactivate`, { form: { confirm: "doomed co" } });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain("The name typed does not match; nothing was changed.");
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.status).toBe("active");
    const right = await fragment(`/tenants/${tenant.id}/deactivate`, { form: { confirm: "Doomed Co" } });
    expect(right.html).toContain("Deactivated; 1 key(s) revoked.");
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.status).toBe("deactivated");
  });

  it("shows the identity, the audit trail, and makes a setup link whose URL appears once", async () => {
    const { tenant } = await newTenant("Linkable");
    const page = await fragment(`/tenants/${tenant.id}`);
    expect(page.html).toContain(tenant.identity.issuer);
    expect(page.html).toContain("tenant.provision.completed");
    const made = await fragment(`/tenants/${tenant.id}/setup-link`, { form: { expiresInHours: "24" } });
    const url = /value="(https:\/\/gateway\.test\/onboard\/[A-Za-z0-9_-]{43})"/.exec(made.html)?.[1];
    expect(url).toBeTruthy();
    const links = (await admin("GET", "/onboarding-links?status=pending")).body.items;
    expect(links.find((l: { tenantId: string }) => l.tenantId === tenant.id)).toMatchObject({ purpose: "identity" });
    expect((await fragment(`/tenants/${tenant.id}`)).html).not.toContain(url!);
    expect((await fragment("/links")).html).not.toContain(url!);
  });

  it("answers an unknown tenant with a clear fragment", async () => {
    const res = await fragment(`/tenants/tnt_${"0".repeat(26)}`);
    expect(res.status).toBe(404);
    expect(res.html).toContain("Tenant not found.");
  });
});

describe("console: onboarding links", () => {
  it("creates a link (URL shown once, with a copy button), lists it by status, revokes it", async () => {
    const made = await fragment("/links", {
      form: { name: "Prospect", externalId: "crm-prospect", creditLimit: "99.5", expiresInHours: "48" },
    });
    expect(made.status).toBe(200);
    const url = /id="new-link-url" type="text" readonly="" value="([^"]+)"/.exec(made.html)?.[1];
    expect(url).toMatch(/^https:\/\/gateway\.test\/onboard\/[A-Za-z0-9_-]{43}$/);
    expect(made.html).toContain('data-copy="new-link-url"');
    const link = (await admin("GET", "/onboarding-links?status=pending")).body.items[0];
    expect(link).toMatchObject({ name: "Prospect", externalId: "crm-prospect", creditLimit: 9950 });

    const pending = await fragment("/links?status=pending");
    expect(pending.html).toContain(link.id);
    expect(pending.html).not.toContain(url!);
    const revoked = await fragment(`/links/${link.id}/revoke`, { form: {} });
    expect(revoked.html).toContain(`Revoked ${link.id}`);
    expect((await fragment("/links?status=revoked")).html).toContain(link.id);
    expect((await gatewayFetch(new URL(url!).pathname)).status).toBe(410);
  });

  it("refuses bad input with the reason, creating nothing", async () => {
    const before = (await admin("GET", "/onboarding-links")).body.items.length;
    const res = await fragment("/links", { form: { creditLimit: "ten dollars", expiresInHours: "72" } });
    expect(res.status).toBe(400);
    expect(res.html).toContain("Credit limit: give an amount in USD");
    const hours = await fragment("/links", { form: { expiresInHours: "9999" } });
    expect(hours.html).toContain("Expires in: between 1 and 720 hours.");
    expect((await admin("GET", "/onboarding-links")).body.items.length).toBe(before);
  });
});
