// Names a person gives (a tenant's, an onboarding link's, a webhook's) are checked alike in every
// path: visible characters only, 1 to 200 of them, no bidi controls. A name that passes shows in the
// console and the CSV exactly as typed; one that does not is refused with a clear 400 and stores nothing.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, createTenant, tenantBody } from "../helpers/admin";
import { gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { createLink, portal } from "../helpers/portal";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";

beforeAll(async () => {
  await sandbox.reset();
});

const BAD_NAMES: Array<[string, string]> = [
  ["a right-to-left override (U+202E)", "Acme\u202Egpj.exe"],
  ["a left-to-right isolate (U+2066)", "Acme \u2066Corp"],
  ["a zero-width space", "Ac\u200Bme"],
  ["a line break", "Acme\nCorp"],
  ["a tab", "Acme\tCorp"],
  ["a no-break space", "Acme\u00A0Corp"],
  ["201 characters", "x".repeat(201)],
  ["only spaces", "   "],
];
const GOOD_NAMES = ["Zoë & Søn ApS", "株式会社アクメ", "Acme; Inc. =1+1", "x".repeat(200), "שלום Ltd"];

function expectRefused(res: { status: number; body: any; text?: string }) {
  expect({ status: res.status, code: res.body?.code }, res.text ?? JSON.stringify(res.body)).toEqual({
    status: 400,
    code: "invalid_request",
  });
  expect(res.body.message).toMatch(/^name[: ]/); // refused for its name, not for anything else in the body
}

async function newIdentity() {
  const idp = await TestIdp.create(`https://${crypto.randomUUID()}.names.example`, "ES256");
  return { idp, identity: { issuer: idp.issuer, jwks: idp.jwks() } };
}

describe("the admin API", () => {
  it.each(BAD_NAMES)("refuses %s in a tenant's name (create, update), a link's and a webhook's", async (_, name) => {
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM tenants").first<{ n: number }>();
    expectRefused(await admin("POST", "/tenants", { body: tenantBody((await newIdentity()).identity, { name }) }));
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM tenants").first<{ n: number }>()).toEqual(before);

    const { tenant } = await createTenant({ name: "Plain Name" });
    expectRefused(await admin("PATCH", `/tenants/${tenant.id}`, { body: { name } }));
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.name).toBe("Plain Name");

    expectRefused(await admin("POST", "/onboarding-links", { body: { name } }));
    expectRefused(
      await admin("POST", "/webhooks", {
        body: { name, url: "https://zavu.sandbox/__sandbox/hooks/names", events: ["tenant.status.changed"] },
      }),
    );
  });

  it("keeps names in any script, with punctuation, up to 200 characters, exactly as given", async () => {
    for (const name of GOOD_NAMES) {
      const res = await admin("POST", "/tenants", { body: tenantBody((await newIdentity()).identity, { name }) });
      expect(res.status, res.text).toBe(201);
      expect(res.body.tenant.name).toBe(name);
    }
    const hook = await admin("POST", "/webhooks", {
      body: {
        name: "Billing — Zoë",
        url: "https://zavu.sandbox/__sandbox/hooks/names-ok",
        events: ["tenant.status.changed"],
      },
    });
    expect(hook.status, hook.text).toBe(201);
    expect(hook.body.webhook.name).toBe("Billing — Zoë");
    expect(
      (await admin("GET", "/webhooks")).body.items.find((w: { id: string }) => w.id === hook.body.webhook.id).name,
    ).toBe("Billing — Zoë");
    await admin("DELETE", `/webhooks/${hook.body.webhook.id}`);
  });
});

describe("the portal and the console", () => {
  it.each(BAD_NAMES.slice(0, 4))("refuse %s as the organisation's name, and keep the link usable", async (_, name) => {
    const { idp, identity } = await newIdentity();
    const { secret, link } = await createLink();
    const res = await portal(secret, "/complete", { name, identity, token: await idp.token() });
    expectRefused(res);
    const pending = (await admin("GET", "/onboarding-links?status=pending&limit=100")).body.items;
    expect(pending.map((l: { id: string }) => l.id)).toContain(link.id);

    const { tenant } = await createTenant({ name: "Console Plain" });
    const form = await gatewayFetch(`/console/f/tenants/${tenant.id}/update`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name, creditLimit: "", metadata: "" }).toString(),
    });
    expect(form.status).toBe(400);
    expect(await form.text()).toMatch(/Name must (use visible characters only|be 1 to 200 characters)/);
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.name).toBe("Console Plain");
  });
});

describe("every other path that stores a name", () => {
  it("the API does not trim silently: a name with a space or a no-break space at its end is refused", async () => {
    for (const name of ["Acme ", "Acme\u00A0", "\u3000Acme"]) {
      expectRefused(await admin("POST", "/tenants", { body: tenantBody((await newIdentity()).identity, { name }) }));
    }
    // Counted as Zavu counts a sub-account's name (UTF-16 units): 100 emoji are 200.
    const emoji = "\u{1F600}".repeat(100);
    const res = await admin("POST", "/tenants", { body: tenantBody((await newIdentity()).identity, { name: emoji }) });
    expect(res.status, res.text).toBe(201);
  });

  it("an import without a name, of a sub-account whose name Zavu holds with a line break, is refused", async () => {
    const { subAccount } = await zavu(MAIN_KEY).subAccounts.create({ name: "Legacy\nName" });
    const res = await admin("POST", "/tenants/import", {
      body: { subAccountId: subAccount.id, apiKey: subAccount.apiKey!, identity: (await newIdentity()).identity },
    });
    expectRefused(res);
    const named = await admin("POST", "/tenants/import", {
      body: {
        subAccountId: subAccount.id,
        apiKey: subAccount.apiKey!,
        name: "Legacy Name",
        identity: (await newIdentity()).identity,
      },
    });
    expect(named.status, named.text).toBe(201);
  });

  it("the console's link form refuses a bidi override in the customer's name, and creates no link", async () => {
    const before = (await admin("GET", "/onboarding-links?limit=100")).body.items.length;
    const res = await gatewayFetch("/console/f/links", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "Acme\u202Eevil", expiresInHours: "72" }).toString(),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Customer name must use visible characters only/);
    expect((await admin("GET", "/onboarding-links?limit=100")).body.items.length).toBe(before);
  });
});
