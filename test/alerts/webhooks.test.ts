import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";

const RECEIVER = "https://zavu.sandbox/__sandbox/hooks";

async function register(name: string, events: string[]) {
  const res = await admin("POST", "/webhooks", { body: { url: `${RECEIVER}/${name}`, events } });
  expect(res.status, res.text).toBe(201);
  return res.body.webhook as { id: string; url: string; events: string[]; secret: string };
}

async function onboard(extra: Record<string, unknown> = {}) {
  const idp = await TestIdp.create(`https://alerts-${crypto.randomUUID()}.example`, "ES256");
  const res = await admin("POST", "/tenants", {
    body: { name: "Alerts test", identity: { issuer: idp.issuer, jwks: idp.jwks() }, ...extra },
  });
  expect(res.status, res.text).toBe(201);
  return { ...(res.body.tenant as { id: string; subAccountId: string }), token: await idp.token() };
}

async function send(token: string) {
  const res = await gatewayFetch("/v1/messages", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ to: "+15551234567", channel: "sms" }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Polls until `check` passes (deliveries are made by the dispatcher's alarm, in the background). */
async function eventually<T>(check: () => Promise<T>, ms = 8_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** What the receiver got, parsed; each checked against the webhook's secret with the standardwebhooks library. */
async function received(name: string, secret: string) {
  const wh = new Webhook(secret);
  return (await sandbox.hooks(name))
    .filter((h) => h.status === 200)
    .map((h) => ({
      ...(wh.verify(h.body, h.headers) as { type: string; data: Record<string, unknown> }),
      id: h.headers["webhook-id"],
    }));
}

beforeEach(async () => {
  await sandbox.reset();
  for (const w of (await admin("GET", "/webhooks")).body.items) await admin("DELETE", `/webhooks/${w.id}`);
});

describe("webhook endpoints", () => {
  it("registers an endpoint: its whsec_ secret is in the 201 answer only", async () => {
    const webhook = await register("reg", ["tenant.status.changed"]);
    expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const listed = (await admin("GET", "/webhooks")).body.items;
    expect(listed).toEqual([
      {
        id: webhook.id,
        name: null,
        url: webhook.url,
        events: webhook.events,
        createdAt: expect.any(String),
        deletedAt: null,
      },
    ]);
    const stored = await env.DB.prepare("SELECT secret_ciphertext FROM webhooks WHERE id = ?")
      .bind(webhook.id)
      .first<{ secret_ciphertext: string }>();
    expect(stored!.secret_ciphertext).not.toContain(webhook.secret.slice(6, 20)); // sealed, not the secret
    const audit = JSON.stringify((await admin("GET", "/audit?limit=5")).body.items);
    expect(audit).toContain(webhook.id);
    expect(audit).not.toContain(webhook.secret);
  });

  it("refuses receivers on private, loopback or local addresses, plain http, and unknown events", async () => {
    for (const url of [
      "https://10.0.0.7/hook",
      "https://127.0.0.1/hook",
      "https://[::1]/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://192.168.1.20:8443/hook",
      "https://localhost/hook",
      "https://billing.internal/hook",
      "https://0x7f000001/hook",
      "http://hooks.example.com/zavu",
      "https://user:pass@hooks.example.com/zavu",
    ]) {
      const res = await admin("POST", "/webhooks", { body: { url, events: ["tenant.status.changed"] } });
      expect(res.status, url).toBe(400);
      expect(res.body.code).toBe("invalid_request");
      expect(res.body.details[0].path).toBe("url");
    }
    const res = await admin("POST", "/webhooks", { body: { url: `${RECEIVER}/x`, events: ["tenant.deleted"] } });
    expect(res.status).toBe(400);
    expect((await admin("GET", "/webhooks")).body.items).toEqual([]);
  });

  it("POST .../test sends a ping signed the Standard Webhooks way: the standardwebhooks library verifies it", async () => {
    const webhook = await register("ping", ["tenant.status.changed"]);
    const res = await admin("POST", `/webhooks/${webhook.id}/test`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.delivery).toMatchObject({
      type: "webhook.test",
      status: "delivered",
      attempts: 1,
      lastStatus: 200,
    });
    const [hook] = await sandbox.hooks("ping");
    expect(hook!.headers["webhook-id"]).toBe(res.body.delivery.eventId);
    expect(Math.abs(Number(hook!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    expect(hook!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const payload = new Webhook(webhook.secret).verify(hook!.body, hook!.headers) as { type: string };
    expect(payload).toMatchObject({ type: "webhook.test", data: { webhookId: webhook.id } });
    // Tampered, or signed with another secret: the library refuses it.
    expect(() => new Webhook(webhook.secret).verify(hook!.body.replace("test", "tset"), hook!.headers)).toThrow();
    const other = (await register("other", ["tenant.status.changed"])).secret;
    expect(() => new Webhook(other).verify(hook!.body, hook!.headers)).toThrow();
  });

  it("a receiver that fails twice gets the event on the third try (the same webhook-id), and the deliveries say so", async () => {
    const t = await onboard(); // (its going live is an event too: before the webhook exists)
    const webhook = await register("flaky", ["tenant.status.changed"]);
    await sandbox.fault({ method: "POST", path: "/__sandbox/hooks/flaky", status: 500, count: 2 });
    await admin("PATCH", `/tenants/${t.id}`, { body: { status: "inactive" } });
    const arrivals = await eventually(async () => {
      const hooks = await sandbox.hooks("flaky");
      expect(hooks.map((h) => h.status)).toEqual([500, 500, 200]);
      return hooks;
    });
    expect(new Set(arrivals.map((h) => h.headers["webhook-id"])).size).toBe(1);
    const [event] = await received("flaky", webhook.secret);
    expect(event).toMatchObject({
      type: "tenant.status.changed",
      data: { tenantId: t.id, from: "active", to: "inactive" },
    });
    const { items } = (await admin("GET", `/webhooks/${webhook.id}/deliveries`)).body;
    expect(items.find((d: { type: string }) => d.type === "tenant.status.changed")).toMatchObject({
      status: "delivered",
      attempts: 3,
      lastStatus: 200,
      lastError: null,
      nextAttemptAt: null,
    });
  });

  it("gives up after eight attempts (about 27.6 hours at the real schedule), and says why", async () => {
    const t = await onboard();
    const webhook = await register("down", ["tenant.status.changed"]);
    await sandbox.fault({ method: "POST", path: "/__sandbox/hooks/down", status: 503 });
    await admin("PATCH", `/tenants/${t.id}`, { body: { status: "inactive" } });
    const delivery = await eventually(async () => {
      const [d] = (await admin("GET", `/webhooks/${webhook.id}/deliveries`)).body.items;
      expect(d.status).toBe("failed");
      return d;
    }, 15_000);
    expect(delivery).toMatchObject({ attempts: 8, lastStatus: 503, lastError: "HTTP 503", nextAttemptAt: null });
    expect(await sandbox.hooks("down")).toHaveLength(8);
  }, 20_000);

  it("a deleted webhook gets nothing more", async () => {
    const webhook = await register("gone", ["tenant.status.changed"]);
    expect((await admin("DELETE", `/webhooks/${webhook.id}`)).body.webhook.deletedAt).not.toBeNull();
    const t = await onboard();
    await admin("PATCH", `/tenants/${t.id}`, { body: { status: "inactive" } });
    await new Promise((r) => setTimeout(r, 300));
    expect(await sandbox.hooks("gone")).toEqual([]);
    expect((await admin("GET", `/webhooks/${webhook.id}/deliveries`)).status).toBe(404);
    expect((await admin("DELETE", `/webhooks/${webhook.id}`)).status).toBe(404);
  });
});

describe("the alerts", () => {
  it("tenant.credit.threshold at 80 % and at 100 % of the credit limit, once each per limit", async () => {
    const webhook = await register("credit", ["tenant.credit.threshold"]);
    await sandbox.setTeam({ prices: { sms: 2 } });
    const t = await onboard({ creditLimit: 10 });
    for (let i = 0; i < 3; i++) expect(await send(t.token)).toBe(202); // 6 cents: 60 %
    await new Promise((r) => setTimeout(r, 200));
    expect(await received("credit", webhook.secret)).toEqual([]);
    expect(await send(t.token)).toBe(202); // 8 cents: 80 %
    expect(await send(t.token)).toBe(202); // 10 cents: 100 %
    expect(await send(t.token)).toBe(402); // credit_limit_reached
    const events = await eventually(async () => {
      const got = await received("credit", webhook.secret);
      expect(got).toHaveLength(2);
      return got;
    });
    expect(events.map((e) => e.data.threshold).sort()).toEqual([100, 80]);
    expect(events[0]!.data).toMatchObject({ tenantId: t.id, creditLimitCents: 10 });
    // A new limit: its own thresholds.
    await admin("PATCH", `/tenants/${t.id}`, { body: { creditLimit: 100 } });
    expect(await send(t.token)).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    expect(await received("credit", webhook.secret)).toHaveLength(2);
  });

  it("team.balance.low once when Zavu's balance falls under TEAM_BALANCE_LOW_CENTS, again after it recovered and fell", async () => {
    const webhook = await register("team", ["team.balance.low"]);
    await sandbox.setTeam({ balance: 5_000 });
    await admin("GET", "/team"); // refreshes the team's ledger from Zavu
    await admin("GET", "/team");
    const first = await eventually(async () => {
      const got = await received("team", webhook.secret);
      expect(got).toHaveLength(1);
      return got[0]!;
    });
    expect(first).toMatchObject({ type: "team.balance.low", data: { balanceCents: 5_000, thresholdCents: 10_000 } });
    await sandbox.setTeam({ balance: 50_000 });
    await admin("GET", "/team");
    await sandbox.setTeam({ balance: 900 });
    await admin("GET", "/team");
    await eventually(async () => expect(await received("team", webhook.secret)).toHaveLength(2));
    await sandbox.setTeam({ balance: 1_000_000 });
    await admin("GET", "/team");
  });

  it("tenant.rate_limited the first time a tenant is refused by its plan in an hour", async () => {
    const webhook = await register("limited", ["tenant.rate_limited"]);
    const t = await onboard({ plan: { dailySends: 1 } });
    expect(await send(t.token)).toBe(202);
    expect(await send(t.token)).toBe(429);
    expect(await send(t.token)).toBe(429);
    const [event] = await eventually(async () => {
      const got = await received("limited", webhook.secret);
      expect(got).toHaveLength(1);
      return got;
    });
    expect(event!.data).toMatchObject({ tenantId: t.id, limit: "dailySends" });
    await new Promise((r) => setTimeout(r, 200));
    expect(await received("limited", webhook.secret)).toHaveLength(1);
  });

  it("tenant.provisioning.incomplete when onboarding stops half way, and tenant.status.changed when it goes live", async () => {
    const webhook = await register("onboarding", ["tenant.provisioning.incomplete", "tenant.status.changed"]);
    await sandbox.fault({ method: "GET", path: "/v1/sub-accounts/*/api-keys", status: 503, count: 1 });
    const idp = await TestIdp.create("https://alerts-incomplete.example", "ES256");
    const body = { name: "Half way", identity: { issuer: idp.issuer, jwks: idp.jwks() } };
    const first = await admin("POST", "/tenants", { body, idempotencyKey: "alerts-incomplete" });
    expect(first.body.code).toBe("provisioning_incomplete");
    const tenantId = first.body.details.tenantId;
    const again = await admin("POST", "/tenants", { body, idempotencyKey: "alerts-incomplete" });
    expect(again.status).toBe(201);
    const events = await eventually(async () => {
      const got = await received("onboarding", webhook.secret);
      expect(got).toHaveLength(2);
      return got;
    });
    expect(events.map((e) => [e.type, e.data.tenantId])).toEqual(
      expect.arrayContaining([
        ["tenant.provisioning.incomplete", tenantId],
        ["tenant.status.changed", tenantId],
      ]),
    );
  });

  it("tenant.status.changed on suspension, reactivation and deactivation", async () => {
    const webhook = await register("status", ["tenant.status.changed"]);
    const t = await onboard(); // provisioning -> active
    await admin("PATCH", `/tenants/${t.id}`, { body: { status: "inactive" } });
    await admin("PATCH", `/tenants/${t.id}`, { body: { status: "active" } });
    await admin("DELETE", `/tenants/${t.id}`);
    const events = await eventually(async () => {
      const got = (await received("status", webhook.secret)).filter((e) => e.data.tenantId === t.id);
      expect(got).toHaveLength(4);
      return got;
    });
    expect(events.map((e) => `${e.data.from}->${e.data.to}`).sort()).toEqual(
      ["provisioning->active", "active->deactivated", "active->inactive", "inactive->active"].sort(),
    );
  });
});
