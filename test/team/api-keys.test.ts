import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { clock, newIsolate, state } from "../helpers/gateway";
import { sandbox } from "../helpers/sandbox";
import { newKey } from "./helpers";

beforeAll(async () => {
  await sandbox.reset();
});

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

describe("admin API keys", () => {
  it("create: 201 with the secret (zgk_, 256 bits) shown once; D1 keeps only its SHA-256; list without secrets", async () => {
    const created = await admin("POST", "/api-keys", {
      body: { name: "Billing export", role: "viewer", expiresInDays: 30 },
    });
    expect(created.status).toBe(201);
    const { apiKey, secret } = created.body;
    expect(secret).toMatch(/^zgk_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({
      name: "Billing export",
      role: "viewer",
      prefix: secret.slice(0, 12),
      lastUsedAt: null,
    });
    expect(apiKey.id).toMatch(/^gk_[0-9a-z]{26}$/);
    expect(Date.parse(apiKey.expiresAt) - Date.parse(apiKey.createdAt)).toBe(30 * 86_400_000);
    const row = await env.DB.prepare("SELECT * FROM admin_api_keys WHERE id = ?")
      .bind(apiKey.id)
      .first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row!.secret_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const list = await admin("GET", "/api-keys");
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(secret);
    expect(list.body.items.find((k: { id: string }) => k.id === apiKey.id)).toEqual(apiKey);
  });

  it("refuses a bad role, name or lifetime", async () => {
    for (const body of [
      { name: "x", role: "owner" },
      { name: "", role: "viewer" },
      { name: "x", role: "viewer", expiresInDays: 0 },
      { name: "x", role: "viewer", secret: "mine" },
    ])
      expect((await admin("POST", "/api-keys", { body })).status).toBe(400);
  });

  it("a key works as Bearer on the admin API; its use is recorded at most once a minute, in the background", async () => {
    const { id, secret } = await newKey("viewer", "reader");
    expect((await admin("GET", "/tenants", { token: secret })).status).toBe(200);
    const used = async () =>
      (await env.DB.prepare("SELECT last_used_at AS t FROM admin_api_keys WHERE id = ?")
        .bind(id)
        .first<{ t: number | null }>())!.t;
    const first = await used();
    expect(first).not.toBeNull();
    const writes = state.counters.d1Queries;
    expect((await admin("GET", "/tenants", { token: secret })).status).toBe(200);
    expect(await used()).toBe(first); // within the minute: no write
    expect(state.counters.d1Queries - writes).toBeLessThan(3); // cached: no key lookup either
    clock.advance(61_000);
    expect((await admin("GET", "/team", { token: secret })).status).not.toBe(401);
    expect(await used()).toBeGreaterThan(first!);
    const listed = await admin("GET", "/api-keys", { token: secret });
    expect(listed.body.items.find((k: { id: string }) => k.id === id).lastUsedAt).not.toBeNull();
  });

  it("an expired key is refused", async () => {
    const { secret } = await newKey("admin", "short-lived", 1);
    expect((await admin("GET", "/tenants", { token: secret })).status).toBe(200);
    clock.advance(86_400_000 + 1_000);
    const res = await admin("GET", "/tenants", { token: secret });
    expect(res.status).toBe(401);
    expect(res.body.message).toContain("expired");
  });

  it("a made-up or malformed key is refused; only a key's exact shape costs a D1 lookup", async () => {
    for (const token of [`zgk_${"A".repeat(43)}`, "zgk_", `zgk_${"A".repeat(200)}`])
      expect((await admin("GET", "/tenants", { token })).status).toBe(401);
    for (const token of ["zgk_", `zgk_${"A".repeat(42)}`, `zgk_${"A".repeat(44)}`, `zgk_${"!".repeat(43)}`]) {
      const before = state.counters.d1Queries;
      expect((await admin("GET", "/tenants", { token })).status).toBe(401);
      expect(state.counters.d1Queries - before, token).toBe(0);
    }
  });

  it("revoke: refused at once here, and by another isolate that had verified and cached it (control-plane event)", async () => {
    const { id, secret } = await newKey("operator", "to revoke");
    const other = newIsolate();
    const call = () => other.fetch("/admin/v1/tenants", { headers: bearer(secret) });
    expect((await call()).status).toBe(200);
    expect(other.state.principals.size).toBe(1); // verified and cached there
    const revoked = await admin("DELETE", `/api-keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.apiKey.id).toBe(id);
    expect((await admin("GET", "/tenants", { token: secret })).status).toBe(401);
    // The other isolate trusts its cache only while its view of the control plane is younger than the bound.
    clock.advance(5_000);
    expect((await call()).status).toBe(401);
    expect((await admin("GET", "/api-keys")).body.items.some((k: { id: string }) => k.id === id)).toBe(false);
    expect((await admin("DELETE", `/api-keys/${id}`)).status).toBe(404);
  });
});

describe("the audit log names the actor", () => {
  it("a key by id and name, the token by fingerprint; X-Admin-Actor only as a note beside it", async () => {
    const { id, secret } = await newKey("admin", "CRM sync");
    const byKey = await admin("POST", "/webhooks", {
      token: secret,
      headers: { "x-admin-actor": "jane" },
      body: { url: "https://hooks.example/a", events: ["tenant.status.changed"] },
    });
    expect(byKey.status).toBe(201);
    const byToken = await admin("PUT", "/staff/jane@reseller.example", { body: { role: "viewer" } });
    expect(byToken.status).toBe(200);
    const { items } = (await admin("GET", "/audit?limit=10")).body;
    expect(items.find((e: { action: string }) => e.action === "webhook.create").actor).toBe(
      `key:${id} (CRM sync) (jane)`,
    );
    expect(items.find((e: { action: string }) => e.action === "staff.put").actor).toMatch(/^admin:[A-Za-z0-9_-]{8}$/);
    const created = items.find(
      (e: { action: string; detail: { keyId?: string } }) => e.action === "admin_key.create" && e.detail.keyId === id,
    );
    expect(created.detail).toMatchObject({ name: "CRM sync", role: "admin" });
    expect(JSON.stringify(items)).not.toContain(secret);
    // A note cannot pass for another actor: its brackets go.
    const spoof = await admin("POST", `/webhooks/${byKey.body.webhook.id}/test`, {
      token: secret,
      headers: { "x-admin-actor": "x) (staff:boss@reseller.example" },
    });
    expect(spoof.status).toBe(200);
    const tested = (await admin("GET", "/audit?limit=5")).body.items.find(
      (e: { action: string }) => e.action === "webhook.test",
    );
    expect(tested.actor).toBe(`key:${id} (CRM sync) (x staff:boss@reseller.example)`);
  });

  it("admin answers are for the caller alone: nosniff, same-origin resource policy, not cached", async () => {
    const res = await admin("GET", "/tenants");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });
});
