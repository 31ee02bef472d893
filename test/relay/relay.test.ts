import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { signZavu } from "../../src/lib/zavu-signature";
import { admin } from "../helpers/admin";
import { gatewayFetch, newIsolate, state } from "../helpers/gateway";
import { sandbox } from "../helpers/sandbox";
import { eventually, insertSender, type TestSender, zavuEvent, zavuSignature } from "../helpers/senders";
import { insertTenant } from "../helpers/tenants";

const RECEIVER = "https://zavu.sandbox/__sandbox/hooks";

let hookSeq = 0;
async function tenantWithSender(opts: Parameters<typeof insertSender>[1] = {}) {
  const tenant = await insertTenant({ issuer: `https://idp.test/relay-${crypto.randomUUID()}` });
  const hook = `relay-${hookSeq++}-${Date.now()}`;
  const sender = await insertSender(tenant.id, { webhookUrl: `${RECEIVER}/${hook}`, ...opts });
  return { tenant, sender, hook };
}

/** Zavu posting an event to the relay. */
async function post(
  sender: TestSender,
  body: string,
  headers: Record<string, string> | null = null,
  via: (path: string, init?: RequestInit) => Promise<Response> = gatewayFetch,
) {
  const signature = headers ?? { "x-zavu-signature": await zavuSignature(sender.zavuSecret, body) };
  return via(`/relay/zavu/${sender.relayId}`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "Zavu-Webhooks/1.0", ...signature },
    body,
  });
}

async function deliveries(tenantId: string, query = "") {
  const res = await admin("GET", `/tenants/${tenantId}/event-deliveries${query}`);
  expect(res.status).toBe(200);
  return res.body.items as Array<{
    id: string;
    eventId: string;
    status: string;
    attempts: number;
    lastError: string | null;
  }>;
}

const hex = (s: string) => /^[0-9a-f]{64}$/.test(s);

beforeEach(async () => {
  await sandbox.reset();
});

describe("the relay takes Zavu's events", () => {
  it("a signed event is queued, answered 200, and reaches the customer's URL byte for byte, signed with the customer's secret", async () => {
    const { tenant, sender, hook } = await tenantWithSender();
    const event = zavuEvent(sender, tenant.subAccountId, "message.delivered");
    const res = await post(sender, event.body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, duplicate: false });

    const [got] = await eventually(async () => {
      const hooks = await sandbox.hooks(hook);
      return hooks.length > 0 && hooks;
    });
    expect(got!.body).toBe(event.body);
    const header = got!.headers["x-zavu-signature"]!;
    const t = Number(/t=(\d+)/.exec(header)![1]);
    // The customer's secret (not Zavu's) signs it: Zavu's documented v2 check passes.
    expect(header).toBe(await signZavu(sender.customerSecret, event.body, "v2", t));
    expect(header).not.toContain("v1=");
    const [delivery] = await deliveries(tenant.id);
    expect(delivery).toMatchObject({ eventId: event.id, status: "delivered", attempts: 1, lastError: null });
  });

  it("signs to the customer the way its sender says: v1, v1+v2 (one t), v2", async () => {
    for (const version of ["v1", "v1+v2", "v2"] as const) {
      const { tenant, sender, hook } = await tenantWithSender({ signatureVersion: version });
      const event = zavuEvent(sender, tenant.subAccountId, "message.sent");
      expect((await post(sender, event.body)).status).toBe(200);
      const [got] = await eventually(async () => {
        const hooks = await sandbox.hooks(hook);
        return hooks.length > 0 && hooks;
      });
      const parts: Record<string, string> = Object.fromEntries(
        got!.headers["x-zavu-signature"]!.split(",").map((p) => p.split("=") as [string, string]),
      );
      expect(Object.keys(parts).sort(), version).toEqual(
        version === "v1" ? ["t", "v1"] : version === "v2" ? ["t", "v2"] : ["t", "v1", "v2"],
      );
      expect(Object.values(parts).slice(1).every(hex)).toBe(true);
      expect(got!.headers["x-zavu-signature"]).toBe(
        await signZavu(sender.customerSecret, event.body, version, Number(parts.t)),
      );
    }
  });

  it("takes Zavu's v2 and v1+v2 signatures, never v1 alone (it does not cover the timestamp); v2 decides", async () => {
    const { tenant, sender } = await tenantWithSender();
    const t = Math.floor(Date.now() / 1000);
    for (const version of ["v2", "v1+v2"] as const) {
      const event = zavuEvent(sender, tenant.subAccountId, "message.queued");
      const header = await signZavu(sender.zavuSecret, event.body, version, t);
      expect((await post(sender, event.body, { "x-zavu-signature": header })).status, version).toBe(200);
    }
    // A captured v1 body and signature, sent again with a fresh t: refused.
    const captured = zavuEvent(sender, tenant.subAccountId, "message.queued");
    const v1Only = await signZavu(sender.zavuSecret, captured.body, "v1", t);
    expect((await post(sender, captured.body, { "x-zavu-signature": v1Only })).status).toBe(401);
    // A good v1 beside a bad v2: v2 decides.
    const event = zavuEvent(sender, tenant.subAccountId, "message.queued");
    const v1 = await signZavu(sender.zavuSecret, event.body, "v1", t);
    const res = await post(sender, event.body, { "x-zavu-signature": `${v1},v2=${"0".repeat(64)}` });
    expect(res.status).toBe(401);
  });

  it("refuses forged, stale, unsigned and malformed signatures (401) and unknown relays (404); nothing is delivered, every refusal is counted", async () => {
    const { tenant, sender, hook } = await tenantWithSender();
    const event = zavuEvent(sender, tenant.subAccountId, "message.delivered");
    const now = Math.floor(Date.now() / 1000);
    const before = state.counters.relayRefusals;
    const cases: Array<[string, Record<string, string>]> = [
      [
        "forged with another secret",
        { "x-zavu-signature": await signZavu("whsec_not-the-secret", event.body, "v2", now) },
      ],
      [
        "signed with the customer's secret",
        { "x-zavu-signature": await signZavu(sender.customerSecret, event.body, "v2", now) },
      ],
      ["stale by 6 minutes", { "x-zavu-signature": await signZavu(sender.zavuSecret, event.body, "v2", now - 360) }],
      ["from 6 minutes ahead", { "x-zavu-signature": await signZavu(sender.zavuSecret, event.body, "v2", now + 360) }],
      ["missing", {}],
      ["no timestamp", { "x-zavu-signature": `v2=${"a".repeat(64)}` }],
      ["garbage", { "x-zavu-signature": "t=abc,v2=xyz" }],
    ];
    for (const [name, headers] of cases) {
      const res = await post(sender, event.body, headers);
      expect(res.status, name).toBe(401);
      expect(((await res.json()) as { code: string }).code, name).toBe("invalid_signature");
    }
    // The body changed after signing.
    const signed = await zavuSignature(sender.zavuSecret, event.body);
    expect((await post(sender, event.body.replace("delivered", "failed"), { "x-zavu-signature": signed })).status).toBe(
      401,
    );
    for (const path of [`/relay/zavu/${"A".repeat(32)}`, "/relay/zavu/short", `/relay/zavu/${sender.relayId}/x`]) {
      const res = await gatewayFetch(path, { method: "POST", body: event.body });
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain(sender.relayId);
    }
    expect(state.counters.relayRefusals - before).toBe(cases.length + 1 + 3);
    // An unknown relay id is looked up once, then refused without a query for a minute.
    const queries = state.counters.d1Queries;
    for (let i = 0; i < 3; i++)
      expect((await gatewayFetch(`/relay/zavu/${"A".repeat(32)}`, { method: "POST", body: "{}" })).status).toBe(404);
    expect(state.counters.d1Queries - queries).toBe(0);
    expect(await sandbox.hooks(hook)).toEqual([]);
    expect(await deliveries(tenant.id)).toEqual([]);
  });

  it("an event naming another tenant's sender or project is refused (403), audited, and delivered nowhere", async () => {
    const a = await tenantWithSender();
    const b = await tenantWithSender();
    // Signed with a's secret (so it passes the signature), but about b's sender, or b's project.
    for (const event of [
      zavuEvent(b.sender, a.tenant.subAccountId, "message.inbound"),
      zavuEvent(a.sender, b.tenant.subAccountId, "message.inbound"),
    ]) {
      const res = await post(a.sender, event.body);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe("event_not_for_sender");
    }
    const audit = (await admin("GET", `/audit?tenantId=${a.tenant.id}`)).body.items as Array<{ action: string }>;
    expect(audit.filter((e) => e.action === "relay.event_refused")).toHaveLength(2);
    expect(await sandbox.hooks(a.hook)).toEqual([]);
    expect(await sandbox.hooks(b.hook)).toEqual([]);
    expect(await deliveries(a.tenant.id)).toEqual([]);
    expect(await deliveries(b.tenant.id)).toEqual([]);
  });

  it("Zavu retrying one event, into another isolate too, is delivered once", async () => {
    const { tenant, sender, hook } = await tenantWithSender();
    const event = zavuEvent(sender, tenant.subAccountId, "message.delivered");
    const other = newIsolate();
    const answers = await Promise.all([
      post(sender, event.body),
      post(sender, event.body, null, other.fetch),
      post(sender, event.body, null, newIsolate().fetch),
    ]);
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as Array<{ duplicate: boolean }>;
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
    await eventually(async () => (await sandbox.hooks(hook)).length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(await sandbox.hooks(hook)).toHaveLength(1);
    expect(await deliveries(tenant.id)).toHaveLength(1);
  });

  it("a deleted sender's relay answers 410", async () => {
    const { tenant, sender } = await tenantWithSender();
    await env.DB.prepare("UPDATE tenant_senders SET deleted_at = ? WHERE relay_id = ?")
      .bind(Date.now(), sender.relayId)
      .run();
    const res = await post(sender, zavuEvent(sender, tenant.subAccountId, "message.sent").body);
    expect(res.status).toBe(410);
    expect(((await res.json()) as { code: string }).code).toBe("sender_deleted");
  });
});

describe("delivery to the customer", () => {
  it("a failing receiver is retried until it recovers; the log shows the attempts", async () => {
    const { tenant, sender, hook } = await tenantWithSender();
    await sandbox.fault({ path: `/__sandbox/hooks/${hook}`, status: 503, count: 2 });
    const event = zavuEvent(sender, tenant.subAccountId, "message.delivered");
    expect((await post(sender, event.body)).status).toBe(200);
    const [delivery] = await eventually(async () => {
      const items = await deliveries(tenant.id, "?status=delivered");
      return items.length > 0 && items;
    });
    expect(delivery).toMatchObject({ status: "delivered", attempts: 3, lastError: null });
    expect((await sandbox.hooks(hook)).map((h) => h.status)).toEqual([503, 503, 200]);
  });

  it("after a failure, the sender's other events wait for the next retry instead of meeting the failing receiver now", async () => {
    const { tenant, sender, hook } = await tenantWithSender();
    // Held while suspended, so both are due in the same pass once the tenant is active.
    expect((await admin("PATCH", `/tenants/${tenant.id}`, { body: { status: "inactive" } })).status).toBe(200);
    const first = zavuEvent(sender, tenant.subAccountId, "message.sent");
    const second = zavuEvent(sender, tenant.subAccountId, "message.delivered");
    for (const e of [first, second]) expect((await post(sender, e.body)).status).toBe(200);
    await eventually(async () => (await deliveries(tenant.id, "?status=held")).length === 2);
    await sandbox.fault({ path: `/__sandbox/hooks/${hook}`, status: 503, count: 2 });
    expect((await admin("PATCH", `/tenants/${tenant.id}`, { body: { status: "active" } })).status).toBe(200);
    const done = await eventually(async () => {
      const items = await deliveries(tenant.id, "?status=delivered");
      return items.length === 2 && items;
    });
    const byEvent = new Map(done.map((d) => [d.eventId, d]));
    expect(byEvent.get(first.id)).toMatchObject({ attempts: 3 }); // both failures were its own
    expect(byEvent.get(second.id)).toMatchObject({ attempts: 1 });
  });

  it("gives up after the last retry (about 24 h, scaled down in tests) and says why", async () => {
    const { tenant, sender, hook } = await tenantWithSender();
    await sandbox.fault({ path: `/__sandbox/hooks/${hook}`, status: 500, count: 100 });
    expect((await post(sender, zavuEvent(sender, tenant.subAccountId, "message.sent").body)).status).toBe(200);
    const [failed] = await eventually(async () => {
      const items = await deliveries(tenant.id, "?status=failed");
      return items.length > 0 && items;
    }, 10_000);
    expect(failed).toMatchObject({ status: "failed", attempts: 11, lastError: "HTTP 500" });
  });

  it("replay delivers an event again, and is audited", async () => {
    const { tenant, sender, hook } = await tenantWithSender();
    expect((await post(sender, zavuEvent(sender, tenant.subAccountId, "message.delivered").body)).status).toBe(200);
    const { body } = await admin("GET", `/tenants/${tenant.id}/event-deliveries`);
    await eventually(async () => (await deliveries(tenant.id, "?status=delivered")).length === 1);
    const id = body.items[0].id as string;
    await new Promise((r) => setTimeout(r, 2_100)); // past what the event relay read with the event: it reads again
    const res = await admin("POST", `/tenants/${tenant.id}/event-deliveries/${id}/replay`);
    expect(res.status).toBe(200);
    expect(res.body.delivery).toMatchObject({ id, status: "pending", attempts: 0 });
    await eventually(async () => (await sandbox.hooks(hook)).length === 2);
    const audit = (await admin("GET", `/audit?tenantId=${tenant.id}`)).body.items as Array<{ action: string }>;
    expect(audit.some((e) => e.action === "event_delivery.replay")).toBe(true);
    expect((await admin("POST", `/tenants/${tenant.id}/event-deliveries/edl_${"0".repeat(26)}/replay`)).status).toBe(
      404,
    );
  });

  it("skips what the customer did not ask for: an event it did not subscribe to, a paused webhook, no URL", async () => {
    const subscribed = await tenantWithSender({ events: ["message.delivered"] });
    const paused = await tenantWithSender({ active: false });
    const noUrl = await tenantWithSender({ webhookUrl: null });
    for (const [t, type] of [
      [subscribed, "message.sent"],
      [paused, "message.delivered"],
      [noUrl, "message.delivered"],
    ] as const) {
      expect((await post(t.sender, zavuEvent(t.sender, t.tenant.subAccountId, type).body)).status).toBe(200);
    }
    for (const [t, reason] of [
      [subscribed, "event not subscribed"],
      [paused, "webhook paused"],
      [noUrl, "no webhook URL"],
    ] as const) {
      const [d] = await eventually(async () => {
        const items = await deliveries(t.tenant.id, "?status=skipped");
        return items.length > 0 && items;
      });
      expect(d!.lastError).toBe(reason);
      expect(await sandbox.hooks(t.hook)).toEqual([]);
    }
  });

  it("a suspended tenant's events are kept and delivered on reactivation", async () => {
    const { tenant, sender, hook } = await tenantWithSender();
    expect((await admin("PATCH", `/tenants/${tenant.id}`, { body: { status: "inactive" } })).status).toBe(200);
    expect((await post(sender, zavuEvent(sender, tenant.subAccountId, "message.sent").body)).status).toBe(200);
    await eventually(async () => (await deliveries(tenant.id, "?status=held")).length === 1);
    expect(await sandbox.hooks(hook)).toEqual([]);
    expect((await admin("PATCH", `/tenants/${tenant.id}`, { body: { status: "active" } })).status).toBe(200);
    await eventually(async () => (await sandbox.hooks(hook)).length === 1);
    expect((await deliveries(tenant.id))[0]).toMatchObject({ status: "delivered" });
  });

  it("a deactivated tenant's events are taken (Zavu stops retrying) and dropped, with one audit entry a day", async () => {
    const { tenant, sender, hook } = await tenantWithSender();
    expect((await admin("DELETE", `/tenants/${tenant.id}`)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect((await post(sender, zavuEvent(sender, tenant.subAccountId, "message.inbound").body)).status).toBe(200);
      await eventually(async () => (await deliveries(tenant.id, "?status=dropped")).length === i + 1);
    }
    expect(await sandbox.hooks(hook)).toEqual([]);
    const audit = (await admin("GET", `/audit?tenantId=${tenant.id}`)).body.items as Array<{ action: string }>;
    expect(audit.filter((e) => e.action === "relay.events_dropped")).toHaveLength(1);
  });

  it("the delivery log pages and filters", async () => {
    const { tenant, sender } = await tenantWithSender({ webhookUrl: null });
    for (let i = 0; i < 5; i++)
      expect((await post(sender, zavuEvent(sender, tenant.subAccountId, "message.sent").body)).status).toBe(200);
    const first = await admin("GET", `/tenants/${tenant.id}/event-deliveries?limit=2`);
    expect(first.body.items).toHaveLength(2);
    const second = await admin(
      "GET",
      `/tenants/${tenant.id}/event-deliveries?limit=10&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items).toHaveLength(3);
    expect(second.body.nextCursor).toBeNull();
    expect((await admin("GET", `/tenants/${tenant.id}/event-deliveries?cursor=nope`)).status).toBe(400);
    expect((await admin("GET", `/tenants/${tenant.id}/event-deliveries?status=bogus`)).status).toBe(400);
    expect((await admin("GET", `/tenants/tnt_${"0".repeat(26)}/event-deliveries`)).status).toBe(404);
  });
});
