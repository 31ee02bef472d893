import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, tenantBody } from "../helpers/admin";
import { gatewayClient, gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { upstreamSender } from "../senders/helpers";

beforeAll(async () => {
  await sandbox.reset();
});

async function fragment(path: string, form?: Record<string, string>) {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` };
  if (form) headers["content-type"] = "application/x-www-form-urlencoded";
  const res = await gatewayFetch(`/console/f${path}`, {
    method: form ? "POST" : "GET",
    headers,
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  return { status: res.status, html: await res.text() };
}

describe("console: a tenant's phone numbers and senders", () => {
  it("buys and releases numbers, and lists senders with the customer's webhook as text", async () => {
    const idp = await TestIdp.create(`https://${crypto.randomUUID()}.console-senders.example`);
    const created = await admin("POST", "/tenants", {
      body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }, { name: "Numbers Inc" }),
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.tenant.id as string;

    let page = await fragment(`/tenants/${id}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain("Phone numbers");
    expect(page.html).toContain("No phone numbers yet.");
    expect(page.html).toContain("No senders made through the gateway.");

    page = await fragment(`/tenants/${id}/phone-numbers`, { phoneNumber: "+15550100003" });
    expect(page.status, page.html).toBe(200);
    expect(page.html).toContain("Bought +15550100003");
    expect(page.html).toContain("<code>+15550100003</code>");
    const numberId = /phone-numbers\/([A-Za-z0-9_-]+)\/release/.exec(page.html)![1]!;
    const audit = await admin("GET", `/audit?tenantId=${id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain("tenant.phone_number.purchase");

    const bad = await fragment(`/tenants/${id}/phone-numbers`, { phoneNumber: "not a number" });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain("E.164");

    const zc = gatewayClient(await idp.token());
    const markup = "https://hooks.customer.example/in?x=<b>bold</b>";
    const sender = await zc.senders.create({ name: "Console <i>sender</i>", webhookUrl: markup });
    await upstreamSender(sender.id);
    page = await fragment(`/tenants/${id}`);
    expect(page.html).toContain(sender.id);
    expect(page.html).toContain("Console &lt;i&gt;sender&lt;/i&gt;");
    expect(page.html).not.toContain("<i>sender</i>");
    expect(page.html).toContain("https://hooks.customer.example/in?x=&lt;b&gt;bold&lt;/b&gt;");
    expect(page.html).not.toContain("<b>bold</b>");
    expect(page.html).not.toContain("/relay/zavu/");
    expect(page.html).not.toContain("whsec_");

    page = await fragment(`/tenants/${id}/phone-numbers/${numberId}/release`, {});
    expect(page.status, page.html).toBe(200);
    expect(page.html).toContain(`Released ${numberId}`);
    expect(page.html).toContain("No phone numbers yet.");
  });
});
