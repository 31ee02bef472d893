import { expect, it } from "vitest";
import { deployment } from "../helpers/deployment";

it("a missing or short ADMIN_TOKEN closes the admin API (503 not_configured); its description stays public", async () => {
  for (const ADMIN_TOKEN of [
    "",
    "too-short",
    "a-long-enough-token-1,a-long-enough-token-2,third-token-is-one-too-many",
  ]) {
    const d = deployment({ ADMIN_TOKEN });
    const res = await d.fetch("/admin/v1/tenants", { headers: { authorization: `Bearer ${ADMIN_TOKEN || "x"}` } });
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([503, "not_configured"]);
    expect((await d.fetch("/admin/v1/openapi.json")).status).toBe(200);
    expect((await d.fetch("/admin/v1/docs")).status).toBe(200);
  }
});
