import { beforeAll, expect, it } from "vitest";
import { ADMIN_TOKEN, admin } from "../helpers/admin";
import { gatewayFetch } from "../helpers/gateway";
import { sandbox } from "../helpers/sandbox";
import { eventually, insertSender, zavuEvent, zavuSignature } from "../helpers/senders";
import { insertTenant } from "../helpers/tenants";

beforeAll(async () => {
  await sandbox.reset();
});

async function fragment(path: string, post = false) {
  const res = await gatewayFetch(`/console/f${path}`, {
    method: post ? "POST" : "GET",
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(post ? { "content-type": "application/x-www-form-urlencoded" } : {}),
    },
    body: post ? "" : undefined,
  });
  return { status: res.status, html: await res.text() };
}

it("the console lists a tenant's event deliveries by status and replays one", async () => {
  const tenant = await insertTenant({ issuer: `https://idp.test/console-events-${crypto.randomUUID()}` });
  const hook = `console-events-${Date.now()}`;
  const sender = await insertSender(tenant.id, { webhookUrl: `https://zavu.sandbox/__sandbox/hooks/${hook}` });
  const event = zavuEvent(sender, tenant.subAccountId, "message.delivered");
  const res = await gatewayFetch(`/relay/zavu/${sender.relayId}`, {
    method: "POST",
    headers: { "x-zavu-signature": await zavuSignature(sender.zavuSecret, event.body) },
    body: event.body,
  });
  expect(res.status).toBe(200);
  await eventually(async () => (await sandbox.hooks(hook)).length === 1);

  const tenantPage = await fragment(`/tenants/${tenant.id}`);
  expect(tenantPage.html).toContain(`href="#/tenants/${tenant.id}/events"`);
  let page = await fragment(`/tenants/${tenant.id}/events`);
  expect(page.status).toBe(200);
  expect(page.html).toContain(event.id);
  expect(page.html).toContain("message.delivered");
  expect(page.html).toContain("s-delivered");
  expect((await fragment(`/tenants/${tenant.id}/events?status=failed`)).html).toContain("No event deliveries failed.");
  expect((await fragment(`/tenants/${tenant.id}/events?cursor=<script>`)).status).toBe(200);

  const deliveryId = /events\/(edl_[0-9a-z]{26})\/replay/.exec(page.html)![1]!;
  page = await fragment(`/tenants/${tenant.id}/events/${deliveryId}/replay`, true);
  expect(page.status).toBe(200);
  expect(page.html).toContain(`Delivering ${event.id} again now.`);
  await eventually(async () => (await sandbox.hooks(hook)).length === 2);
  const audit = await admin("GET", `/audit?tenantId=${tenant.id}`);
  expect(audit.body.items.map((e: { action: string }) => e.action)).toContain("event_delivery.replay");

  const missing = await fragment(`/tenants/${tenant.id}/events/edl_${"0".repeat(26)}/replay`, true);
  expect(missing.status).toBe(404);
  expect(missing.html).toContain("No such event delivery");
});
