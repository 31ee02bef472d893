import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { gatewayFetch } from "../helpers/gateway";
import { b64url, publishJwks, TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

let rsa: TestIdp;
let ec: TestIdp;
let esOnly: TestIdp;
const AUD = "zavu-gateway";

beforeAll(async () => {
  await sandbox.reset();
  rsa = await TestIdp.create("https://rsa.example", "RS256");
  ec = await TestIdp.create("https://ec.example", "ES256");
  esOnly = await TestIdp.create("https://es-only.example", "ES256");
  await insertTenant({ issuer: rsa.issuer, jwks: rsa.jwks(), audience: [AUD, "other-aud"] });
  await insertTenant({ issuer: ec.issuer, jwksUri: await publishJwks("/ec/jwks.json", ec.jwks()) });
  // An RSA key is registered too, but the tenant allows ES256 only.
  await insertTenant({
    issuer: esOnly.issuer,
    jwks: esOnly.jwks([{ ...rsa.publicJwk, kid: "rsa-extra" }]),
    algorithms: ["ES256"],
  });
});

async function call(authorization?: string) {
  const res = await gatewayFetch("/v1/messages", {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization === undefined ? {} : { authorization }) },
    body: JSON.stringify({ to: "+15551234567", text: "should not be sent" }),
  });
  return { status: res.status, body: (await res.json()) as { code: string; message: string } };
}

const unsigned = (header: object, payload: object, signature = "") =>
  `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${signature}`;
const now = () => Math.floor(Date.now() / 1000);

describe("customer edge: every bad token gets 401 and no upstream call", () => {
  const cases: Array<[string, () => Promise<string | undefined>, RegExp]> = [
    ["no Authorization header", async () => undefined, /Missing Authorization/],
    ["not a Bearer scheme", async () => `Basic ${btoa("a:b")}`, /Bearer/],
    ["a Zavu key instead of a JWT", async () => "Bearer zv_live_sub_abcdefabcdefabcdef", /malformed/],
    ["garbage in three parts", async () => "Bearer aaa.bbb.ccc", /malformed/],
    [
      "alg none",
      async () => `Bearer ${unsigned({ alg: "none" }, { iss: rsa.issuer, aud: AUD, exp: now() + 600 })}`,
      /algorithm|malformed|verified/i,
    ],
    [
      "HS256 signed with the RSA public key (alg confusion)",
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(rsa.publicJwk));
        const token = await new SignJWT({ aud: AUD })
          .setProtectedHeader({ alg: "HS256", kid: rsa.kid })
          .setIssuer(rsa.issuer)
          .setExpirationTime("5m")
          .sign(secret);
        return `Bearer ${token}`;
      },
      /algorithm/i,
    ],
    ["expired", async () => `Bearer ${await rsa.token({ aud: AUD, exp: now() - 120 })}`, /expired/],
    ["no exp", async () => `Bearer ${await rsa.token({ aud: AUD }, { expiresIn: null })}`, /exp/],
    ["nbf in the future", async () => `Bearer ${await rsa.token({ aud: AUD, nbf: now() + 600 })}`, /not yet valid/],
    [
      "unregistered issuer",
      async () => `Bearer ${await rsa.token({ aud: AUD, iss: "https://evil.example" })}`,
      /not registered/,
    ],
    [
      "issuer differing by a trailing slash",
      async () => `Bearer ${await rsa.token({ aud: AUD, iss: `${rsa.issuer}/` })}`,
      /not registered/,
    ],
    ["wrong audience", async () => `Bearer ${await rsa.token({ aud: "someone-else" })}`, /audience/],
    ["missing audience where one is required", async () => `Bearer ${await rsa.token()}`, /audience/],
    [
      "bad signature (another key claiming the registered kid)",
      async () => {
        const impostor = await TestIdp.create(rsa.issuer, "RS256", rsa.kid);
        return `Bearer ${await impostor.token({ aud: AUD })}`;
      },
      /signature/,
    ],
    [
      "tampered payload",
      async () => {
        const [h, , s] = (await rsa.token({ aud: AUD })).split(".");
        return `Bearer ${h}.${b64url(JSON.stringify({ iss: rsa.issuer, aud: AUD, exp: now() + 600, sub: "admin" }))}.${s}`;
      },
      /signature/,
    ],
    [
      "unknown kid",
      async () => `Bearer ${await rsa.token({ aud: AUD }, { header: { kid: "nope" } })}`,
      /No registered key/,
    ],
    [
      "embedded jwk header with the attacker's own key",
      async () => {
        const attacker = await generateKeyPair("RS256", { extractable: true });
        const jwk = await exportJWK(attacker.publicKey);
        return `Bearer ${await rsa.token({ aud: AUD }, { header: { jwk, kid: undefined }, key: attacker.privateKey })}`;
      },
      /signature|No registered key/,
    ],
    [
      "jku header pointing at the attacker's JWKS",
      async () => {
        const attacker = await TestIdp.create(rsa.issuer, "RS256", "attacker");
        const jku = await publishJwks("/attacker/jwks.json", attacker.jwks());
        return `Bearer ${await attacker.token({ aud: AUD }, { header: { jku } })}`;
      },
      /No registered key/,
    ],
    [
      "an algorithm outside the tenant's allowlist, with a registered key",
      async () => `Bearer ${await rsa.token({ iss: esOnly.issuer }, { header: { kid: "rsa-extra" } })}`,
      /algorithm/i,
    ],
    ["a token over 8 KiB", async () => `Bearer ${await rsa.token({ aud: AUD, pad: "x".repeat(9000) })}`, /longer than/],
    [
      "a JWKS-URI tenant's token signed by another key",
      async () => `Bearer ${await (await TestIdp.create(ec.issuer, "ES256", ec.kid)).token()}`,
      /signature/,
    ],
  ];

  it.each(cases)("%s", async (_name, makeAuth, message) => {
    await sandbox.clearRequests();
    const { status, body } = await call(await makeAuth());
    expect(status).toBe(401);
    expect(body.code).toBe("unauthorized");
    expect(body.message).toMatch(message);
    expect((await sandbox.requests()).filter((r) => r.method === "POST")).toEqual([]);
  });

  it("accepts the same tenants' good tokens (the cases above fail for the stated reason only)", async () => {
    expect((await call(`Bearer ${await rsa.token({ aud: "other-aud" })}`)).status).toBe(202);
    expect((await call(`Bearer ${await ec.token()}`)).status).toBe(202);
    expect((await call(`Bearer ${await esOnly.token()}`)).status).toBe(202);
  });

  it("never names another tenant in an error", async () => {
    const { body } = await call(`Bearer ${await ec.token({ iss: rsa.issuer })}`);
    expect(body.message).not.toContain("tnt_");
    expect(JSON.stringify(body)).not.toMatch(/sa_|zv_live/);
  });
});
