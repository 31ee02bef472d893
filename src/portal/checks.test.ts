import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createCounters } from "../lib/counters";
import type { IdentityConfig } from "../storage/tenants";
import { checkToken } from "./checks";

const ISSUER = "https://issuer.example/";
const counters = createCounters();
let privateKey: CryptoKey;
let jwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  privateKey = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
});

const identity = (extra: Partial<IdentityConfig> = {}): IdentityConfig => ({
  issuer: ISSUER,
  audience: ["api"],
  jwksUri: null,
  jwks: { keys: [jwk] },
  algorithms: null,
  claim: null,
  ...extra,
});

function sign(claims: Record<string, unknown>, opts: { exp?: number | null; kid?: string } = {}) {
  const jwt = new SignJWT({ iss: ISSUER, aud: "api", ...claims })
    .setProtectedHeader({ alg: "ES256", kid: opts.kid ?? "k1" })
    .setIssuedAt();
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? "5m");
  return jwt.sign(privateKey);
}

const failed = (r: Awaited<ReturnType<typeof checkToken>>) => r.checks.filter((c) => !c.ok).map((c) => c.name);

describe("token check list", () => {
  it("passes a good token on every check and returns its claims", async () => {
    const report = await checkToken(await sign({ sub: "u1" }), identity(), { keys: [jwk] }, counters);
    expect(report.ok).toBe(true);
    expect(failed(report)).toEqual([]);
    expect(report.claims).toMatchObject({ sub: "u1", iss: ISSUER });
  });

  it("fails exactly the check that is wrong", async () => {
    const keys = { keys: [jwk] };
    expect(failed(await checkToken(await sign({ aud: "other" }), identity(), keys, counters))).toEqual(["audience"]);
    expect(failed(await checkToken(await sign({ iss: "https://x/" }), identity(), keys, counters))).toEqual(["issuer"]);
    expect(failed(await checkToken(await sign({}, { kid: "k2" }), identity(), keys, counters))).toEqual(["signature"]);
    const past = Math.floor(Date.now() / 1000) - 120;
    expect(failed(await checkToken(await sign({}, { exp: past }), identity(), keys, counters))).toEqual(["expiry"]);
    expect(failed(await checkToken(await sign({}, { exp: null }), identity(), keys, counters))).toEqual(["expiry"]);
    const withClaim = identity({ claim: { name: "org_id", value: "o1" } });
    expect(failed(await checkToken(await sign({ org_id: "o2" }), withClaim, keys, counters))).toEqual(["claim"]);
    expect((await checkToken(await sign({ org_id: "o1" }), withClaim, keys, counters)).ok).toBe(true);
    const rsOnly = identity({ algorithms: ["RS256"] });
    expect(failed(await checkToken(await sign({}), rsOnly, keys, counters))).toEqual(["algorithm", "signature"]);
  });

  it("accepts any audience when none is configured, with a warning", async () => {
    const report = await checkToken(
      await sign({ aud: "whatever" }),
      identity({ audience: null }),
      { keys: [jwk] },
      counters,
    );
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === "audience")).toMatchObject({
      ok: true,
      warning: true,
      reason: expect.stringMatching(/^No audience configured: every token this issuer signs is accepted/),
    });
  });

  it("tolerates 30 s of clock skew, like the edge", async () => {
    const justExpired = Math.floor(Date.now() / 1000) - 10;
    expect((await checkToken(await sign({}, { exp: justExpired }), identity(), { keys: [jwk] }, counters)).ok).toBe(
      true,
    );
  });

  it("reports garbage as a format failure, without claims", async () => {
    const report = await checkToken("a.b", identity(), { keys: [jwk] }, counters);
    expect(report).toEqual({
      ok: false,
      checks: [{ name: "format", ok: false, reason: expect.any(String) }],
      claims: null,
    });
    expect((await checkToken("x".repeat(9000), identity(), { keys: [jwk] }, counters)).checks[0]!.reason).toMatch(
      /longer than/,
    );
  });
});
