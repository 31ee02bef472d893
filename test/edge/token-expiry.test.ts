import { beforeAll, describe, expect, it } from "vitest";
import { CLOCK_TOLERANCE_SECONDS } from "../../src/identity/verify";
import { gatewayFetch, state } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

beforeAll(async () => {
  await sandbox.reset();
});

async function balance(token: string) {
  const res = await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
}

describe("the verified-token cache never outlives a token's exp", () => {
  it("a token accepted just inside the clock tolerance is refused once past exp plus the tolerance", async () => {
    const idp = await TestIdp.create("https://expiring.example", "ES256");
    await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
    // Expired 2 s short of the tolerance: jose still accepts it, and a cache that ignored exp would keep it.
    const exp = Math.floor(Date.now() / 1000) - (CLOCK_TOLERANCE_SECONDS - 2);
    const token = await idp.token({ exp });
    const before = state.counters.signatureVerifications;
    expect((await balance(token)).status).toBe(200);
    expect(state.counters.signatureVerifications).toBe(before + 1);

    await new Promise((resolve) => setTimeout(resolve, (exp + CLOCK_TOLERANCE_SECONDS + 1) * 1000 - Date.now()));
    const late = await balance(token);
    expect(late.status).toBe(401);
    expect(late.body).toEqual({ code: "unauthorized", message: "Token has expired." });
    expect(state.counters.signatureVerifications).toBe(before + 2); // verified again, not served from a cache
  });

  it("a token within its life is served from the cache (the path the test above guards)", async () => {
    const idp = await TestIdp.create("https://cached-life.example", "ES256");
    await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
    const token = await idp.token();
    const before = state.counters.signatureVerifications;
    for (let i = 0; i < 3; i++) expect((await balance(token)).status).toBe(200);
    expect(state.counters.signatureVerifications).toBe(before + 1);
  });
});
