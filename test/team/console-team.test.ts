import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, tenantBody } from "../helpers/admin";
import { gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { eventually, insertSender, zavuEvent, zavuSignature } from "../helpers/senders";
import { newKey } from "./helpers";

let tenantId: string;
const keys = {} as Record<"viewer" | "operator" | "admin", string>;

async function fragment(path: string, token: string, form?: Record<string, string>) {
  const res = await gatewayFetch(`/console/f${path}`, {
    method: form ? "POST" : "GET",
    headers: {
      authorization: `Bearer ${token}`,
      ...(form ? { "content-type": "application/x-www-form-urlencoded", origin: "https://gateway.test" } : {}),
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  return { status: res.status, html: await res.text(), role: res.headers.get("x-console-role") };
}

const actions = (html: string) =>
  [...html.matchAll(/<form[^>]* action="([^"]+)"/g)].map((m) => m[1]!.replace(/tnt_\w+/, "T"));

beforeAll(async () => {
  await sandbox.reset();
  const idp = await TestIdp.create(`https://${crypto.randomUUID()}.console.example`);
  const res = await admin("POST", "/tenants", {
    body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }, { name: "Roles Co" }),
  });
  tenantId = res.body.tenant.id;
  for (const role of ["viewer", "operator", "admin"] as const) keys[role] = (await newKey(role)).secret;
});

describe("the console, by role", () => {
  it("a key signs in like the token; the role is shown (x-console-role)", async () => {
    const page = await fragment("/overview", keys.viewer);
    expect(page.status).toBe(200);
    expect(page.role).toBe("viewer");
  });

  it("a viewer sees no forms that change anything; an operator no admin's; an admin all", async () => {
    const path = `/tenants/${tenantId}`;
    const viewer = actions((await fragment(path, keys.viewer)).html);
    const operator = actions((await fragment(path, keys.operator)).html);
    const all = actions((await fragment(path, ADMIN_TOKEN)).html);
    expect(viewer).toEqual([]);
    expect(operator).toContain("/console/f/tenants/T/status");
    expect(operator).toContain("/console/f/tenants/T/rotate-key");
    expect(operator).not.toContain("/console/f/tenants/T/deactivate");
    expect(all).toContain("/console/f/tenants/T/deactivate");
    expect(actions((await fragment("/links", keys.viewer)).html)).toEqual([]);
    expect(actions((await fragment("/api-keys", keys.operator)).html)).toEqual([]);
  });

  it("every action form follows its twin's role: a number's release (admin), an event's replay (operator), the usage month picker (a GET: everyone)", async () => {
    const bought = await admin("POST", `/tenants/${tenantId}/phone-numbers`, { body: { phoneNumber: "+15550109876" } });
    expect(bought.status, bought.text).toBe(201);
    const { body } = await admin("GET", `/tenants/${tenantId}`);
    const sender = await insertSender(tenantId, { webhookUrl: null });
    const event = zavuEvent(sender, body.tenant.subAccountId, "message.sent");
    const relayed = await gatewayFetch(`/relay/zavu/${sender.relayId}`, {
      method: "POST",
      headers: { "x-zavu-signature": await zavuSignature(sender.zavuSecret, event.body) },
      body: event.body,
    });
    expect(relayed.status).toBe(200);
    const events = `/tenants/${tenantId}/events`;
    await eventually(async () => (await fragment(events, ADMIN_TOKEN)).html.includes(event.id));
    const release = (html: string) => actions(html).filter((a) => a.includes("/release"));
    const replay = (html: string) => actions(html).filter((a) => a.includes("/replay"));
    expect(release((await fragment(`/tenants/${tenantId}`, ADMIN_TOKEN)).html)).toHaveLength(1);
    expect(release((await fragment(`/tenants/${tenantId}`, keys.operator)).html)).toEqual([]);
    expect(replay((await fragment(events, keys.operator)).html)).toHaveLength(1);
    expect(replay((await fragment(events, keys.viewer)).html)).toEqual([]);
    for (const page of ["/usage", "/webhooks", "/overview", "/tenants"]) {
      const forms = [...(await fragment(page, keys.viewer)).html.matchAll(/<form[^>]*>/g)].map((m) => m[0]);
      expect(
        forms.filter((f) => /method="post"/i.test(f)),
        page,
      ).toEqual([]);
    }
    expect((await fragment("/usage", keys.viewer)).html).toMatch(/<form[^>]*data-route="\/usage"/); // kept
  });

  it("a forced request beyond the role still gets 403, shown as the console's message", async () => {
    const forced = await fragment(`/tenants/${tenantId}/status`, keys.viewer, { status: "inactive" });
    expect(forced.status).toBe(403);
    expect(forced.html).toContain("needs the operator role");
    const deactivate = await fragment(`/tenants/${tenantId}/deactivate`, keys.operator, { confirm: "Roles Co" });
    expect(deactivate.status).toBe(403);
    expect(deactivate.html).toContain("needs the admin role");
    expect((await admin("GET", `/tenants/${tenantId}`)).body.tenant.status).toBe("active");
  });

  it("API keys: create (the secret shown once, with a copy button), listed with last use, revoked", async () => {
    const created = await fragment("/api-keys", keys.admin, {
      name: "Console made",
      role: "operator",
      expiresInDays: "7",
    });
    expect(created.status).toBe(200);
    const secret = /value="(zgk_[A-Za-z0-9_-]{43})"/.exec(created.html)?.[1];
    expect(secret).toBeDefined();
    expect(created.html).toContain('data-copy="new-key-secret"');
    const listed = await fragment("/api-keys", keys.admin);
    expect(listed.html).not.toContain(secret);
    expect(listed.html).toContain(secret!.slice(0, 12));
    expect((await admin("GET", "/tenants", { token: secret })).status).toBe(200);
    const id = (await admin("GET", "/api-keys")).body.items.find((k: { name: string }) => k.name === "Console made").id;
    expect((await fragment(`/api-keys/${id}/revoke`, keys.admin, {})).html).toContain("Revoked Console made");
    expect((await admin("GET", "/tenants", { token: secret })).status).toBe(401);
  });

  it("staff: set a role, change it, remove; names are text, never markup", async () => {
    const email = "eve<b>@reseller.example";
    const bad = await fragment("/staff", keys.admin, { email, role: "viewer" });
    expect(bad.status).toBe(400);
    expect(bad.html).not.toContain("<b>");
    expect((await fragment("/staff", keys.admin, { email: "Zoe@Reseller.example", role: "viewer" })).html).toContain(
      "zoe@reseller.example is now viewer",
    );
    expect((await fragment("/staff", keys.admin, { email: "zoe@reseller.example", role: "operator" })).status).toBe(
      200,
    );
    expect((await admin("GET", "/staff/zoe@reseller.example")).body.staff.role).toBe("operator");
    const page = await fragment("/staff", keys.viewer);
    expect(page.html).toContain("zoe@reseller.example");
    expect(actions(page.html)).toEqual([]);
    expect((await fragment("/staff/remove", keys.admin, { email: "zoe@reseller.example" })).html).toContain("Removed");
    expect((await admin("GET", "/staff")).body.items).toEqual([]);
  });
});
