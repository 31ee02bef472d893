import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN_NEXT, admin } from "../helpers/admin";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";

const _main = zavu(MAIN_KEY);

beforeAll(async () => {
  await sandbox.reset();
});

describe("admin: authentication and the published contract", () => {
  it("refuses calls without the admin token, or with a wrong one", async () => {
    for (const token of [null, "wrong", "test-admin-token-a-but-longer", ""]) {
      const res = await admin("GET", "/tenants", { token });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe("unauthorized");
    }
  });

  it("accepts either of two configured tokens (rotation without downtime)", async () => {
    expect((await admin("GET", "/tenants")).status).toBe(200);
    expect((await admin("GET", "/tenants", { token: ADMIN_TOKEN_NEXT })).status).toBe(200);
  });

  it("publishes the OpenAPI document and a reference page", async () => {
    const doc = await admin("GET", "/openapi.json", { token: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(doc.body.servers).toEqual([{ url: "/admin/v1" }]);
    for (const path of [
      "/tenants",
      "/tenants/{id}",
      "/tenants/{id}/identity",
      "/tenants/{id}/rotate-key",
      "/tenants/{id}/repair",
      "/tenants/import",
      "/audit",
    ]) {
      expect(Object.keys(doc.body.paths)).toContain(path);
    }
    const page = await admin("GET", "/docs", { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.text).toContain("/admin/v1/openapi.json");
  });
});
