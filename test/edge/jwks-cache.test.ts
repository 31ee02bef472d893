import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { gatewayFetch } from "../helpers/gateway";
import { jwksFetchCount, publishJwks, TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

beforeAll(async () => {
  await sandbox.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

async function balanceStatus(token: string) {
  const res = await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${token}` } });
  await res.body?.cancel();
  return res.status;
}

describe("customer edge: remote JWKS caching", () => {
  it("fetches a JWKS once for many tokens and requests", async () => {
    const idp = await TestIdp.create("https://cache-once.example", "ES256");
    await insertTenant({ issuer: idp.issuer, jwksUri: await publishJwks("/once/jwks.json", idp.jwks()) });
    for (let i = 0; i < 20; i++) expect(await balanceStatus(await idp.token({ sub: `user-${i}` }))).toBe(200);
    expect(await jwksFetchCount("/once/jwks.json")).toBe(1);
  });

  it("a flood of unknown kids refetches at most once per cooldown", async () => {
    const idp = await TestIdp.create("https://flood.example", "ES256");
    await insertTenant({ issuer: idp.issuer, jwksUri: await publishJwks("/flood/jwks.json", idp.jwks()) });
    expect(await balanceStatus(await idp.token())).toBe(200);
    vi.useFakeTimers({ now: Date.now() + 31_000, toFake: ["Date"] });
    const statuses = await Promise.all(
      Array.from({ length: 25 }, async (_, i) => balanceStatus(await idp.token({}, { header: { kid: `bogus-${i}` } }))),
    );
    expect(statuses.every((s) => s === 401)).toBe(true);
    for (let i = 0; i < 10; i++)
      expect(await balanceStatus(await idp.token({}, { header: { kid: `seq-${i}` } }))).toBe(401);
    expect(await jwksFetchCount("/flood/jwks.json")).toBe(2); // the first load + one refetch
  });

  it("picks up a rotated key on its unknown kid, after the cooldown", async () => {
    const idp = await TestIdp.create("https://rotate.example", "ES256");
    const next = await TestIdp.create(idp.issuer, "ES256");
    await insertTenant({ issuer: idp.issuer, jwksUri: await publishJwks("/rotate/jwks.json", idp.jwks()) });
    expect(await balanceStatus(await idp.token())).toBe(200);
    await publishJwks("/rotate/jwks.json", { keys: [idp.publicJwk, next.publicJwk] });
    expect(await balanceStatus(await next.token())).toBe(401); // within the cooldown: no refetch yet
    vi.useFakeTimers({ now: Date.now() + 31_000, toFake: ["Date"] });
    expect(await balanceStatus(await next.token())).toBe(200);
    expect(await jwksFetchCount("/rotate/jwks.json")).toBe(2);
  });

  it("keeps working on cached keys while the IdP is down", async () => {
    const idp = await TestIdp.create("https://outage.example", "ES256");
    await insertTenant({ issuer: idp.issuer, jwksUri: await publishJwks("/outage/jwks.json", idp.jwks()) });
    expect(await balanceStatus(await idp.token())).toBe(200);
    await publishJwks("/outage/jwks.json", { error: "down" }, 503);
    vi.useFakeTimers({ now: Date.now() + 11 * 60_000, toFake: ["Date"] }); // past max age: a refresh is due
    expect(await balanceStatus(await idp.token({ sub: "after-outage" }))).toBe(200);
    expect(await balanceStatus(await idp.token({ sub: "still-down" }, { header: { kid: "unknown" } }))).toBe(401);
    expect(await balanceStatus(await idp.token({ sub: "again" }))).toBe(200);
  });
});
