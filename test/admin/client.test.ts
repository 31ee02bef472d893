import { AdminApiError, createAdminClient, unwrap } from "@zavu-gateway/admin-client";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, adminClient, newIdp } from "../helpers/admin";
import { GATEWAY_URL, gatewayClient, gatewayRequest } from "../helpers/gateway";
import { sandbox } from "../helpers/sandbox";

// The typed admin client (clients/admin) against the real gateway: what its README shows, run.

beforeAll(async () => {
  await sandbox.reset();
});

describe("the typed admin client", () => {
  it("creates a tenant, finds it in the listing, and reads its usage (the README's example)", async () => {
    const idp = await newIdp();
    const admin = createAdminClient({ baseUrl: `${GATEWAY_URL}/`, token: ADMIN_TOKEN, fetch: gatewayRequest });

    const created = await admin.POST("/tenants", {
      body: {
        name: "Acme Corp",
        externalId: "crm-4711",
        creditLimit: 50_000,
        identity: { issuer: idp.issuer, audience: "zavu-gateway", jwks: idp.jwks() },
      },
      headers: { "idempotency-key": "crm-4711-onboarding" },
    });
    expect(created.response.status).toBe(201);
    const tenant = created.data!.tenant;
    expect(tenant).toMatchObject({ name: "Acme Corp", externalId: "crm-4711", status: "active", creditLimit: 50_000 });

    const { data: page } = await admin.GET("/tenants", { params: { query: { externalId: "crm-4711", limit: 10 } } });
    expect(page?.items.map((t) => t.id)).toEqual([tenant.id]);

    await gatewayClient(await idp.token({ aud: "zavu-gateway" })).messages.send({ to: "+15551234567", text: "hi" });
    const usage = await unwrap(admin.GET("/tenants/{id}/usage", { params: { path: { id: tenant.id } } }));
    expect(usage.items.reduce((n, day) => n + day.sends, 0)).toBe(1);

    const month = new Date().toISOString().slice(0, 7);
    const csv = await admin.GET("/usage", { params: { query: { month, format: "csv" } }, parseAs: "text" });
    expect(csv.response.headers.get("content-type")).toContain("text/csv");
    expect(csv.data).toContain(tenant.id);
  });

  it("answers errors as typed bodies, and unwrap() throws them as AdminApiError", async () => {
    const admin = adminClient();
    const missing = await admin.GET("/tenants/{id}", { params: { path: { id: "tnt_00000000000000000000000000" } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.code).toBe("not_found");

    const thrown = await unwrap(admin.PATCH("/tenants/{id}", { params: { path: { id: "nope" } }, body: {} })).catch(
      (e: unknown) => e,
    );
    expect(thrown).toBeInstanceOf(AdminApiError);
    expect(thrown).toMatchObject({ status: 400, code: "invalid_request" });

    const wrongToken = await adminClient({ token: "wrong" }).GET("/stats");
    expect(wrongToken.response.status).toBe(401);
    expect(wrongToken.error?.code).toBe("unauthorized");
  });

  it("names the actor in the audit log", async () => {
    const idp = await newIdp();
    const admin = adminClient({ actor: "crm-sync" });
    const { tenant } = await unwrap(
      admin.POST("/tenants", { body: { name: "Audited", identity: { issuer: idp.issuer, jwks: idp.jwks() } } }),
    );
    const { items } = await unwrap(admin.GET("/audit", { params: { query: { tenantId: tenant.id } } }));
    expect(items.length).toBeGreaterThan(0);
    for (const entry of items) expect(entry.actor).toMatch(/^admin:[A-Za-z0-9_-]{8} \(crm-sync\)$/);
  });
});
