import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, ADMIN_TOKEN_NEXT } from "../helpers/admin";
import { gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

let idp: TestIdp;

beforeAll(async () => {
  await sandbox.reset();
  idp = await TestIdp.create("https://bearer.example", "ES256");
  await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
});

/** One rule for both surfaces (RFC 9110 §11.1: the auth-scheme is case-insensitive; 1*SP before the credentials). */
const FORMS: Array<[string, (credentials: string) => string, boolean]> = [
  ["Bearer", (t) => `Bearer ${t}`, true],
  ["bearer (lowercase)", (t) => `bearer ${t}`, true],
  ["BEARER (uppercase)", (t) => `BEARER ${t}`, true],
  ["bEaReR (mixed case)", (t) => `bEaReR ${t}`, true],
  ["two spaces", (t) => `Bearer  ${t}`, true],
  ["no token", () => "Bearer", false],
  ["no space", (t) => `Bearer${t}`, false],
  ["a tab instead of a space", (t) => `Bearer\t${t}`, false],
  ["another scheme", (t) => `Basic ${t}`, false],
  ["a token without a scheme", (t) => t, false],
  ["two tokens", (t) => `Bearer ${t} ${t}`, false],
  ["a comma-joined second scheme", (t) => `Bearer ${t}, Basic eDp5`, false],
];

describe("one Bearer rule for /v1 and /admin/v1", () => {
  it.each(FORMS)("%s: the same verdict on both", async (_name, form, accepted) => {
    const adminRes = await gatewayFetch("/admin/v1/tenants?limit=1", { headers: { authorization: form(ADMIN_TOKEN) } });
    const edgeRes = await gatewayFetch("/v1/balance", { headers: { authorization: form(await idp.token()) } });
    const verdicts = { admin: adminRes.status, edge: edgeRes.status };
    expect(verdicts).toEqual(accepted ? { admin: 200, edge: 200 } : { admin: 401, edge: 401 });
    if (!accepted) {
      expect(await adminRes.json()).toMatchObject({ code: "unauthorized", message: expect.stringMatching(/Bearer/) });
      expect(await edgeRes.json()).toMatchObject({ code: "unauthorized", message: expect.stringMatching(/Bearer/) });
    }
  });
});

describe("the admin token is compared whole", () => {
  const prefixes = [...ADMIN_TOKEN].map((_, i) => ADMIN_TOKEN.slice(0, i + 1)).slice(0, -1);
  const near: Array<[string, string[]]> = [
    ["every strict prefix of it, down to one character", prefixes],
    ["the token with one more character", [`${ADMIN_TOKEN}x`, `${ADMIN_TOKEN_NEXT}x`]],
    ["the token with its last character changed", [`${ADMIN_TOKEN.slice(0, -1)}c`]],
    ["the token in another case", [ADMIN_TOKEN.toUpperCase()]],
    ["both rotation tokens joined", [`${ADMIN_TOKEN},${ADMIN_TOKEN_NEXT}`]],
  ];
  it.each(near)("%s: 401", async (_name, candidates) => {
    expect(candidates.length).toBeGreaterThan(0);
    for (const candidate of candidates) {
      const res = await gatewayFetch("/admin/v1/tenants?limit=1", {
        headers: { authorization: `Bearer ${candidate}` },
      });
      expect(res.status, candidate).toBe(401);
      expect(await res.json()).toEqual({ code: "unauthorized", message: "The admin token is not valid." });
    }
    // ...while both configured tokens work, so the 401s above are about the variants.
    for (const token of [ADMIN_TOKEN, ADMIN_TOKEN_NEXT]) {
      const res = await gatewayFetch("/admin/v1/tenants?limit=1", { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
  });
});
