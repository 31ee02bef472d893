// Two-way messaging across isolates: a customer app makes a sender through one isolate with the
// official SDK, sends, and Zavu (the sandbox) posts the message's events to the gateway's relay over
// real HTTP; the gateway delivers them to the customer's URL, signed with the customer's secret. Zavu
// retrying one event into other isolates delivers it once.
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { signZavu } from "../../../src/lib/zavu-signature";
import { admin, type Cluster, createTenant, customer, sandboxControl, sleep, startCluster } from "../harness/cluster";
import { NodeIdp } from "../harness/idp";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ isolates: 3 });
});
afterAll(() => cluster?.stop());
beforeEach(async () => {
  await sandboxControl(cluster, "POST", "/reset");
  await sandboxControl(cluster, "PATCH", "/team", { deliveryDelayMs: 30 });
});

type Hook = { name: string; status: number; headers: Record<string, string>; body: string };
const hooks = async (name: string) =>
  (await sandboxControl<{ items: Hook[] }>(cluster, "GET", `/hooks?name=${name}`)).items;

async function until<T>(check: () => Promise<T | false | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(50);
  }
}

async function onboard() {
  const idp = await NodeIdp.create();
  const tenant = await createTenant(cluster.gateways[0]!, { issuer: idp.issuer, jwks: idp.jwks() });
  return { tenant, token: await idp.token() };
}

it("a sender made with the SDK through the gateway gets its message's receipts, signed with its secret, in order", async () => {
  const { tenant, token } = await onboard();
  const hook = `cluster-${Date.now()}`;
  const app = customer(cluster.gateways[0]!, token);
  const sender = await app.senders.create({
    name: "Support",
    webhookUrl: `https://zavu.sandbox/__sandbox/hooks/${hook}`,
    webhookEvents: ["message.queued", "message.sent", "message.delivered"],
  });
  const secret = sender.webhook!.secret!;
  expect(sender.webhook!.url).toBe(`https://zavu.sandbox/__sandbox/hooks/${hook}`);

  await customer(cluster.gateways[1]!, token).messages.send(
    { to: "+15551234567", text: "hi" },
    {
      headers: { "Zavu-Sender": sender.id },
    },
  );
  const got = await until(async () => {
    const items = await hooks(hook);
    return items.length >= 3 && items;
  });
  expect(got.map((h) => (JSON.parse(h.body) as { type: string }).type)).toEqual([
    "message.queued",
    "message.sent",
    "message.delivered",
  ]);
  for (const h of got) {
    const header = h.headers["x-zavu-signature"]!;
    const t = Number(/t=(\d+)/.exec(header)![1]);
    expect(header).toBe(await signZavu(secret, h.body, "v2", t));
    expect(JSON.parse(h.body)).toMatchObject({ senderId: sender.id, projectId: tenant.subAccountId });
  }
  // Zavu posted to the relay, on the isolate the sender was made through, never to the customer.
  const { items: posted } = await sandboxControl<{ items: Array<{ url: string }> }>(
    cluster,
    "GET",
    `/webhook-deliveries?senderId=${sender.id}`,
  );
  expect(posted).toHaveLength(3);
  for (const p of posted) expect(p.url).toMatch(new RegExp(`^${cluster.gateways[0]}/relay/zavu/[A-Za-z0-9_-]{32}$`));
  const { body } = await admin(cluster.gateways[2]!, "GET", `/tenants/${tenant.id}/event-deliveries`);
  expect((body.items as Array<{ status: string }>).map((d) => d.status)).toEqual([
    "delivered",
    "delivered",
    "delivered",
  ]);
});

it("Zavu retrying one event into every isolate: one delivery", async () => {
  const { tenant, token } = await onboard();
  const hook = `retry-${Date.now()}`;
  const app = customer(cluster.gateways[0]!, token);
  const sender = await app.senders.create({
    name: "Retry",
    webhookUrl: `https://zavu.sandbox/__sandbox/hooks/${hook}`,
    webhookEvents: ["message.delivered"],
  });
  await app.messages.send({ to: "+15551234567", text: "hi" }, { headers: { "Zavu-Sender": sender.id } });
  await until(async () => (await hooks(hook)).length === 1);
  // What Zavu sent to the relay, byte for byte, sent again to each isolate at once.
  const { items } = await sandboxControl<{
    items: Array<{ url: string; type: string; body: string; headers: Record<string, string> }>;
  }>(cluster, "GET", `/webhook-deliveries?senderId=${sender.id}`);
  const delivered = items.find((d) => d.type === "message.delivered")!;
  const path = new URL(delivered.url).pathname;
  const signature = delivered.headers["x-zavu-signature"]!;
  const answers = await Promise.all(
    cluster.gateways.map((g) =>
      fetch(`${g}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-zavu-signature": signature },
        body: delivered.body,
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { duplicate: boolean } })),
    ),
  );
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
  expect(answers.every((a) => a.body.duplicate)).toBe(true);
  await sleep(300);
  expect(await hooks(hook)).toHaveLength(1);
  const { body } = await admin(cluster.gateways[1]!, "GET", `/tenants/${tenant.id}/event-deliveries`);
  expect(body.items).toHaveLength(1);
});

it("replies and a failed send come back too: inbound and conversation.new, and message.failed counted in usage", async () => {
  const { tenant, token } = await onboard();
  const hook = `two-way-${Date.now()}`;
  const app = customer(cluster.gateways[1]!, token);
  const sender = await app.senders.create({
    name: "Two-way",
    webhookUrl: `https://zavu.sandbox/__sandbox/hooks/${hook}`,
    webhookEvents: ["message.inbound", "conversation.new", "message.failed"],
  });
  await sandboxControl(cluster, "POST", "/inbound", { senderId: sender.id, from: "+15557654321", text: "Hi back" });
  await sandboxControl(cluster, "POST", "/inbound", { senderId: sender.id, from: "+15557654321", text: "Again" });
  // Recipients ending in 0000 fail at Zavu, which charges nothing for them.
  await app.messages.send({ to: "+15551230000", text: "nobody there" }, { headers: { "Zavu-Sender": sender.id } });
  const got = await until(async () => {
    const items = await hooks(hook);
    return items.length >= 4 && items;
  });
  const types = got.map((h) => (JSON.parse(h.body) as { type: string }).type);
  expect(types.filter((t) => t === "conversation.new")).toHaveLength(1); // the first message of that contact only
  expect(types.filter((t) => t === "message.inbound")).toHaveLength(2);
  expect(types.filter((t) => t === "message.failed")).toHaveLength(1);
  const inbound = got.map((h) => JSON.parse(h.body)).find((e) => e.type === "message.inbound");
  expect(inbound.data).toMatchObject({ from: "+15557654321", text: "Hi back" });
  const usage = await until(async () => {
    const { body } = await admin(cluster.gateways[2]!, "GET", `/tenants/${tenant.id}/usage`);
    return body.totals?.failed === 1 && body.totals.sends === 1 && body; // the send's count leaves its isolate within 1 s
  });
  expect(usage.totals).toMatchObject({ sends: 1, failed: 1, delivered: 0 });
});
