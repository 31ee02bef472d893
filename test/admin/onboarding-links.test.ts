import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { TestIdp } from "../helpers/idp";
import { createLink, portal } from "../helpers/portal";
import { sandbox } from "../helpers/sandbox";

beforeAll(async () => {
  await sandbox.reset();
});

describe("admin: onboarding links", () => {
  it("creates a link with a 256-bit secret in its URL; only the secret's hash is stored", async () => {
    const before = Date.now();
    const { link, url, secret } = await createLink({ name: "Hashy", metadata: { plan: "pro" } });
    expect(url).toBe(`https://gateway.test/onboard/${secret}`);
    expect(link).toMatchObject({
      id: expect.stringMatching(/^lnk_[0-9a-z]{26}$/),
      purpose: "create",
      status: "pending",
      tenantId: null,
      name: "Hashy",
      metadata: { plan: "pro" },
      createdBy: expect.stringMatching(/^admin:/),
      completedAt: null,
      revokedAt: null,
    });
    const hours = (Date.parse(link.expiresAt) - before) / 3600_000;
    expect(hours).toBeGreaterThan(71.99);
    expect(hours).toBeLessThan(72.01);
    const row = await env.DB.prepare("SELECT * FROM onboarding_links WHERE id = ?").bind(link.id).first();
    expect(JSON.stringify(row)).not.toContain(secret);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
    expect(row!.secret_hash).toBe(
      btoa(String.fromCharCode(...digest))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, ""),
    );

    const audit = await admin("GET", "/audit?limit=5");
    const entry = audit.body.items.find((e: { action: string }) => e.action === "onboarding_link.create");
    expect(entry.detail).toMatchObject({ linkId: link.id, purpose: "create" });
    expect(JSON.stringify(audit.body)).not.toContain(secret);
  });

  it("validates what it is given", async () => {
    const bad = async (body: unknown, fragment: string, status = 400) => {
      const res = await admin("POST", "/onboarding-links", { body });
      expect(res.status, res.text).toBe(status);
      expect(res.body.message).toContain(fragment);
    };
    await bad({ expiresInHours: 721 }, "expiresInHours");
    await bad({ expiresInHours: 0 }, "expiresInHours");
    await bad({ surprise: true }, "surprise");
    await bad({ tenantId: "nope" }, "not a tenant id");
    await bad({ tenantId: `tnt_${"0".repeat(26)}` }, "Tenant not found", 404);
    await bad({ creditLimit: -1 }, "creditLimit");
    expect((await admin("POST", "/onboarding-links", { body: {}, token: null })).status).toBe(401);
  });

  it("refuses an externalId another tenant holds", async () => {
    const idp = await TestIdp.create("https://ext.example");
    await admin("POST", "/tenants", {
      body: { name: "Holder", externalId: "crm-held", identity: { issuer: idp.issuer, jwks: idp.jwks() } },
    });
    const res = await admin("POST", "/onboarding-links", { body: { externalId: "crm-held" } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("conflict");
  });

  it("lists newest first, by status, in keyset pages", async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await createLink({ name: `Page ${i}` })).link.id);
    await admin("DELETE", `/onboarding-links/${made[1]}`);
    const first = await admin("GET", "/onboarding-links?limit=2&status=pending");
    expect(first.body.items.map((l: { id: string }) => l.id)).toEqual([made[4], made[3]]);
    const second = await admin("GET", `/onboarding-links?limit=2&status=pending&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((l: { id: string }) => l.id)).toEqual([made[2], made[0]]);
    const revoked = await admin("GET", "/onboarding-links?status=revoked");
    expect(revoked.body.items.map((l: { id: string }) => l.id)).toContain(made[1]);
    for (const l of [...first.body.items, ...second.body.items]) expect(l.url).toBeUndefined();
    expect((await admin("GET", "/onboarding-links?status=lost")).status).toBe(400);
  });

  it("revokes: the portal closes at once; revoking again is harmless; a used link cannot be revoked", async () => {
    const { link, secret } = await createLink();
    const res = await admin("DELETE", `/onboarding-links/${link.id}`);
    expect(res.status).toBe(200);
    expect(res.body.link).toMatchObject({ status: "revoked", revokedAt: expect.any(String) });
    expect((await portal(secret)).body.code).toBe("link_revoked");
    expect((await admin("DELETE", `/onboarding-links/${link.id}`)).body.link.status).toBe("revoked");
    expect((await admin("DELETE", `/onboarding-links/lnk_${"0".repeat(26)}`)).status).toBe(404);

    const idp = await TestIdp.create("https://used.example", "ES256");
    const used = await createLink();
    const nameless = await portal(used.secret, "/complete", {
      identity: { issuer: idp.issuer, jwks: idp.jwks() },
      token: await idp.token(),
    });
    expect(nameless.status).toBe(400); // neither the link nor the customer named the organization
    expect(nameless.body.message).toBe("name: give your organization's name.");
    const done = await portal(used.secret, "/complete", {
      name: "Used Co",
      identity: { issuer: idp.issuer, jwks: idp.jwks() },
      token: await idp.token(),
    });
    expect(done.status).toBe(201);
    const refused = await admin("DELETE", `/onboarding-links/${used.link.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("invalid_state");

    const audit = await admin("GET", "/audit?limit=50");
    expect(
      audit.body.items.filter((e: { action: string }) => e.action === "onboarding_link.revoke").length,
    ).toBeGreaterThan(0);
  });

  it("is described in the OpenAPI document", async () => {
    const doc = await admin("GET", "/openapi.json", { token: null });
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(["/onboarding-links", "/onboarding-links/{id}"]),
    );
    expect(doc.body.paths["/onboarding-links"].post.responses["201"]).toBeTruthy();
  });
});
