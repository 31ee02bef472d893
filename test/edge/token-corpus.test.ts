import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { gatewayFetch } from "../helpers/gateway";
import { b64url, publishJwks, TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

/**
 * The token corpus: forged, confused, malformed, oversized, duplicated-claim, crit/b64, kid-injection,
 * embedded-key, alg-casing and issuer-lookalike tokens. Each one must get 401 and cause no upstream call.
 * Many are signed with the tenant's real key, so they prove the rule, not merely the signature check.
 */

const AUD = "corpus-api";
let rsa: TestIdp; // inline JWKS, audience required
let ec: TestIdp; // jwksUri
let org: TestIdp; // shared issuer, told apart by org_id
let ed: TestIdp; // EdDSA inline

beforeAll(async () => {
  await sandbox.reset();
  rsa = await TestIdp.create("https://corpus-rsa.example", "RS256");
  ec = await TestIdp.create("https://corpus-ec.example", "ES256");
  org = await TestIdp.create("https://corpus-org.example/", "ES256");
  ed = await TestIdp.create("https://corpus-ed.example", "EdDSA");
  await insertTenant({ issuer: rsa.issuer, jwks: rsa.jwks(), audience: [AUD] });
  await insertTenant({ issuer: ec.issuer, jwksUri: await publishJwks("/corpus/ec.json", ec.jwks()) });
  await insertTenant({ issuer: org.issuer, jwks: org.jwks(), claim: { name: "org_id", value: "org_a" } });
  await insertTenant({ issuer: org.issuer, jwks: org.jwks(), claim: { name: "org_id", value: "org_b" } });
  await insertTenant({ issuer: ed.issuer, jwks: ed.jwks() });
});

const now = () => Math.floor(Date.now() / 1000);
const json = (value: unknown) => JSON.stringify(value);
const good = () => ({ iss: rsa.issuer, aud: AUD, sub: "user-1", iat: now(), exp: now() + 600 });
const bearer = (token: string) => `Bearer ${token}`;

/** Signs the exact bytes given (so duplicate members and odd types survive), with the IdP's real key. */
async function signInput(idp: TestIdp, input: string): Promise<string> {
  const algorithm =
    idp.alg === "RS256"
      ? { name: "RSASSA-PKCS1-v1_5" }
      : idp.alg === "ES256"
        ? { name: "ECDSA", hash: "SHA-256" }
        : { name: "Ed25519" };
  const signature = await crypto.subtle.sign(
    algorithm,
    idp.privateKey as unknown as CryptoKey,
    new TextEncoder().encode(input),
  );
  return b64url(new Uint8Array(signature));
}

/** A token whose header and payload are these exact JSON texts, validly signed by `idp`. */
async function crafted(idp: TestIdp, header: string, payload: string): Promise<string> {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${await signInput(idp, input)}`;
}

const rsaHeader = (extra: Record<string, unknown> = {}) => json({ alg: "RS256", kid: rsa.kid, ...extra });
const signedRsa = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  crafted(rsa, rsaHeader(header), json(payload));
const unsigned = (header: unknown, payload: unknown, signature = "") =>
  `${b64url(typeof header === "string" ? header : json(header))}.${b64url(typeof payload === "string" ? payload : json(payload))}.${signature}`;

async function hmacToken(alg: "HS256" | "HS384" | "HS512", secret: Uint8Array, iss = rsa.issuer) {
  return new SignJWT({ aud: AUD })
    .setProtectedHeader({ alg, kid: rsa.kid })
    .setIssuer(iss)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(secret);
}

/** Raw r||s (what JWS wants) to ASN.1 DER (what it must not accept). */
function derFromRaw(raw: Uint8Array): Uint8Array {
  const int = (bytes: Uint8Array) => {
    let b = bytes;
    while (b.length > 1 && b[0] === 0 && b[1]! < 0x80) b = b.slice(1);
    if (b[0]! >= 0x80) b = Uint8Array.of(0, ...b);
    return Uint8Array.of(0x02, b.length, ...b);
  };
  const body = Uint8Array.of(...int(raw.slice(0, 32)), ...int(raw.slice(32)));
  return Uint8Array.of(0x30, body.length, ...body);
}
const fromB64url = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

type Case = [name: string, authorization: () => Promise<string>];

const FORGED: Case[] = [
  ["alg none, empty signature", async () => bearer(unsigned({ alg: "none" }, good()))],
  ["alg None", async () => bearer(unsigned({ alg: "None" }, good()))],
  ["alg NONE", async () => bearer(unsigned({ alg: "NONE" }, good()))],
  ["alg nOnE with a signature", async () => bearer(unsigned({ alg: "nOnE" }, good(), "c2ln"))],
  ["alg none in two segments", async () => bearer(unsigned({ alg: "none" }, good()).slice(0, -1))],
  [
    "HS256 keyed with the tenant's public JWK",
    async () => bearer(await hmacToken("HS256", new TextEncoder().encode(json(rsa.publicJwk)))),
  ],
  ["HS256 keyed with the RSA modulus", async () => bearer(await hmacToken("HS256", fromB64url(rsa.publicJwk.n!)))],
  [
    "HS384 keyed with an EC public JWK",
    async () => bearer(await hmacToken("HS384", new TextEncoder().encode(json(ec.publicJwk)))),
  ],
  [
    "HS512 keyed with a guessable secret",
    async () => bearer(await hmacToken("HS512", new TextEncoder().encode("secret"))),
  ],
  [
    "RS256 by another key claiming the registered kid",
    async () => bearer(await (await TestIdp.create(rsa.issuer, "RS256", rsa.kid)).token({ aud: AUD })),
  ],
  [
    "a signature transplanted from another valid token",
    async () => {
      const [, , s] = (await rsa.token({ aud: AUD, sub: "someone-else" })).split(".");
      const [h, p] = (await rsa.token({ aud: AUD, sub: "admin" })).split(".");
      return bearer(`${h}.${p}.${s}`);
    },
  ],
  ["a signature of zero bytes", async () => bearer(unsigned(rsaHeader(), good(), b64url(new Uint8Array(256))))],
  ["RS256 with an empty signature", async () => bearer(unsigned(rsaHeader(), good()))],
  [
    "ES256 signature DER-encoded",
    async () => {
      const [h, p, s] = (await ec.token()).split(".");
      return bearer(`${h}.${p}.${b64url(derFromRaw(fromB64url(s!)))}`);
    },
  ],
  [
    "ES256 signature truncated",
    async () => {
      const [h, p, s] = (await ec.token()).split(".");
      return bearer(`${h}.${p}.${b64url(fromB64url(s!).slice(0, 63))}`);
    },
  ],
  [
    "payload tampered after signing",
    async () => {
      const [h, , s] = (await rsa.token({ aud: AUD })).split(".");
      return bearer(`${h}.${b64url(json({ ...good(), sub: "admin" }))}.${s}`);
    },
  ],
  [
    "header tampered after signing",
    async () => {
      const [, p, s] = (await rsa.token({ aud: AUD })).split(".");
      return bearer(`${b64url(rsaHeader({ typ: "JWT" }))}.${p}.${s}`);
    },
  ],
];

const CONFUSED: Case[] = [
  [
    "another tenant's key and kid under this tenant's issuer",
    async () => bearer(await ec.token({ iss: rsa.issuer, aud: AUD })),
  ],
  [
    "ES256 header with the RSA tenant's kid",
    async () => bearer(await ec.token({ iss: rsa.issuer, aud: AUD }, { header: { kid: rsa.kid } })),
  ],
  ["the wrong audience", async () => bearer(await rsa.token({ aud: "someone-else" }))],
  ["no audience where one is required", async () => bearer(await rsa.token())],
  ["audience as an object", async () => bearer(await signedRsa({ ...good(), aud: { value: AUD } }))],
  ["org_id as an array", async () => bearer(await org.token({ org_id: ["org_a"] }))],
  ["org_id as an object", async () => bearer(await org.token({ org_id: { toString: "org_a" } }))],
  ["org_id with a zero-width space", async () => bearer(await org.token({ org_id: "org_a\u200b" }))],
  ["org_id with different case", async () => bearer(await org.token({ org_id: "ORG_A" }))],
  ["no org_id at all", async () => bearer(await org.token())],
  ["a JWE (five segments)", async () => bearer(`${b64url(json({ alg: "RSA-OAEP", enc: "A256GCM" }))}.a.b.c.d`)],
  [
    "JWS JSON serialization",
    async () => bearer(json({ payload: b64url(json(good())), signatures: [] }).replace(/ /g, "")),
  ],
  [
    "an Ed25519 signature under an ES256 header",
    async () =>
      bearer(await crafted(ed, json({ alg: "ES256", kid: ed.kid }), json({ iss: ed.issuer, exp: now() + 600 }))),
  ],
];

const MALFORMED: Case[] = [
  ["two segments", async () => bearer(`${b64url(rsaHeader())}.${b64url(json(good()))}`)],
  ["four segments", async () => bearer(`${await rsa.token({ aud: AUD })}.extra`)],
  ["empty segments", async () => bearer("..")],
  [
    "standard base64 (+ and /) in the header",
    async () => bearer(`${btoa(rsaHeader({ x: "??>>" }))}.${b64url(json(good()))}.c2ln`),
  ],
  [
    "padding in the payload segment",
    async () => {
      const [h, p, s] = (await rsa.token({ aud: AUD })).split(".");
      return bearer(`${h}.${p}==.${s}`);
    },
  ],
  ["a header that is not JSON", async () => bearer(unsigned("{alg:RS256", good(), "c2ln"))],
  ["a header that is a JSON array", async () => bearer(await crafted(rsa, json(["RS256"]), json(good())))],
  ["a payload that is not JSON", async () => bearer(await crafted(rsa, rsaHeader(), "not json"))],
  ["a payload that is a JSON string", async () => bearer(await crafted(rsa, rsaHeader(), json("iss")))],
  ["a payload that is JSON null", async () => bearer(await crafted(rsa, rsaHeader(), "null"))],
  ["a header without alg", async () => bearer(await crafted(rsa, json({ kid: rsa.kid }), json(good())))],
  ["alg as a number", async () => bearer(await crafted(rsa, json({ alg: 256, kid: rsa.kid }), json(good())))],
  ["alg with a NUL suffix", async () => bearer(await signedRsa(good(), { alg: "RS256\u0000" }))],
  ["alg rs256 (lowercase), validly signed", async () => bearer(await signedRsa(good(), { alg: "rs256" }))],
  ["alg Rs256, validly signed", async () => bearer(await signedRsa(good(), { alg: "Rs256" }))],
  ["alg with a leading space", async () => bearer(await signedRsa(good(), { alg: " RS256" }))],
  ["iss as a number", async () => bearer(await signedRsa({ ...good(), iss: 42 }))],
  ["iss as an array", async () => bearer(await signedRsa({ ...good(), iss: [rsa.issuer] }))],
  ["exp as a string", async () => bearer(await signedRsa({ ...good(), exp: String(now() + 600) }))],
  ["exp as true", async () => bearer(await signedRsa({ ...good(), exp: true }))],
  ["nbf as a string", async () => bearer(await signedRsa({ ...good(), nbf: String(now()) }))],
  ["nbf in the future", async () => bearer(await signedRsa({ ...good(), nbf: now() + 600 }))],
  ["expired beyond the clock tolerance", async () => bearer(await signedRsa({ ...good(), exp: now() - 40 }))],
  ["no exp", async () => bearer(await signedRsa({ iss: rsa.issuer, aud: AUD, iat: now() }))],
  ["an empty token", async () => "Bearer "],
];

const OVERSIZED: Case[] = [
  ["a token over 8 KiB", async () => bearer(await rsa.token({ aud: AUD, pad: "x".repeat(9000) }))],
  ["an Authorization header of 64 KiB", async () => bearer("a".repeat(64 * 1024))],
  ["a 4,000-character kid", async () => bearer(await signedRsa(good(), { kid: "k".repeat(4000) }))],
  [
    "a claim nested 1,000 arrays deep, signed by another key",
    async () => {
      const attacker = await TestIdp.create(rsa.issuer, "RS256", rsa.kid);
      const deep = json(good()).replace(/}$/, `,"deep":${"[".repeat(1000)}${"]".repeat(1000)}}`);
      return bearer(await crafted(attacker, rsaHeader(), deep));
    },
  ],
];

const DUPLICATED: Case[] = [
  [
    "duplicate iss: the registered one first, the attacker's last",
    async () =>
      bearer(
        await crafted(
          rsa,
          rsaHeader(),
          `{"iss":"${rsa.issuer}","iss":"https://evil.example","aud":"${AUD}","exp":${now() + 600}}`,
        ),
      ),
  ],
  [
    "duplicate iss: the attacker's first, signed by the attacker",
    async () => {
      const attacker = await TestIdp.create("https://evil.example", "RS256", rsa.kid);
      return bearer(
        await crafted(
          attacker,
          rsaHeader(),
          `{"iss":"https://evil.example","iss":"${rsa.issuer}","aud":"${AUD}","exp":${now() + 600}}`,
        ),
      );
    },
  ],
  [
    "duplicate alg: RS256 then none",
    async () => bearer(unsigned(`{"alg":"RS256","alg":"none","kid":"${rsa.kid}"}`, good())),
  ],
  [
    "duplicate exp: valid then expired",
    async () =>
      bearer(
        await crafted(
          rsa,
          rsaHeader(),
          `{"iss":"${rsa.issuer}","aud":"${AUD}","exp":${now() + 600},"exp":${now() - 600}}`,
        ),
      ),
  ],
];

const CRIT: Case[] = [
  ["crit naming a registered claim (exp)", async () => bearer(await signedRsa(good(), { crit: ["exp"], exp: 1 }))],
  [
    "crit b64 with b64: false",
    async () => {
      const header = rsaHeader({ b64: false, crit: ["b64"] });
      const payload = json(good());
      const input = `${b64url(header)}.${payload}`;
      return bearer(`${b64url(header)}.${payload}.${await signInput(rsa, input)}`.replace(/ /g, ""));
    },
  ],
  ["crit with an unknown extension", async () => bearer(await signedRsa(good(), { crit: ["x-zavu"], "x-zavu": 1 }))],
  ["crit empty", async () => bearer(await signedRsa(good(), { crit: [] }))],
  ["crit not an array", async () => bearer(await signedRsa(good(), { crit: "b64", b64: false }))],
  [
    "b64: false without crit, signed over the unencoded payload",
    async () => {
      const header = rsaHeader({ b64: false });
      const payload = json(good());
      return bearer(`${b64url(header)}.${b64url(payload)}.${await signInput(rsa, `${b64url(header)}.${payload}`)}`);
    },
  ],
];

const KID_INJECTION: Case[] = [
  ["kid path traversal", async () => bearer(await signedRsa(good(), { kid: "../../../../dev/null" }))],
  ["kid SQL injection", async () => bearer(await signedRsa(good(), { kid: "' OR '1'='1" }))],
  ["kid with CRLF", async () => bearer(await signedRsa(good(), { kid: `${rsa.kid}\r\nX-Injected: 1` }))],
  ["kid as an object", async () => bearer(await signedRsa(good(), { kid: { $ne: null } }))],
  ["kid as a number", async () => bearer(await signedRsa(good(), { kid: 0 }))],
  ["kid null", async () => bearer(await unsigned({ alg: "RS256", kid: null }, good(), "c2ln"))],
];

const EMBEDDED_KEYS: Case[] = [
  [
    "jwk header with the attacker's key",
    async () => {
      const attacker = await generateKeyPair("RS256", { extractable: true });
      const jwk = await exportJWK(attacker.publicKey);
      return bearer(await rsa.token({ aud: AUD }, { header: { jwk, kid: undefined }, key: attacker.privateKey }));
    },
  ],
  [
    "jku header pointing at the attacker's JWKS",
    async () => {
      const attacker = await TestIdp.create(rsa.issuer, "RS256", "attacker");
      const jku = await publishJwks("/corpus/attacker.json", attacker.jwks());
      return bearer(await attacker.token({ aud: AUD }, { header: { jku } }));
    },
  ],
  [
    "x5u header pointing at the attacker's certificate",
    async () => {
      const attacker = await TestIdp.create(rsa.issuer, "RS256", rsa.kid);
      return bearer(await attacker.token({ aud: AUD }, { header: { x5u: "https://idp.test/corpus/cert.pem" } }));
    },
  ],
  [
    "x5c header with the attacker's certificate chain",
    async () => {
      const attacker = await TestIdp.create(rsa.issuer, "RS256", rsa.kid);
      return bearer(await attacker.token({ aud: AUD }, { header: { x5c: [btoa("not really a certificate")] } }));
    },
  ],
  [
    "jwk header copying the tenant's own public key, signed by the attacker",
    async () => {
      const attacker = await generateKeyPair("RS256", { extractable: true });
      return bearer(await rsa.token({ aud: AUD }, { header: { jwk: rsa.publicJwk }, key: attacker.privateKey }));
    },
  ],
];

const ISSUER_LOOKALIKES: Case[] = [
  ["iss with a trailing slash", async () => bearer(await signedRsa({ ...good(), iss: `${rsa.issuer}/` }))],
  ["iss with an uppercase host", async () => bearer(await signedRsa({ ...good(), iss: rsa.issuer.toUpperCase() }))],
  ["iss with a zero-width space", async () => bearer(await signedRsa({ ...good(), iss: `${rsa.issuer}\u200b` }))],
  [
    "iss with a Cyrillic homoglyph",
    async () => bearer(await signedRsa({ ...good(), iss: rsa.issuer.replace("s", "\u0455") })),
  ],
  ["iss over http", async () => bearer(await signedRsa({ ...good(), iss: rsa.issuer.replace("https:", "http:") }))],
  ["iss with :443", async () => bearer(await signedRsa({ ...good(), iss: `${rsa.issuer}:443` }))],
  ["iss percent-encoded", async () => bearer(await signedRsa({ ...good(), iss: rsa.issuer.replace("-", "%2D") }))],
  ["iss with a trailing newline", async () => bearer(await signedRsa({ ...good(), iss: `${rsa.issuer}\n` }))],
  ["iss with a leading space", async () => bearer(await signedRsa({ ...good(), iss: ` ${rsa.issuer}` }))],
  ["iss joined to a claim value with a newline", async () => bearer(await org.token({ iss: `${org.issuer}\norg_a` }))],
];

const CORPUS: Array<[string, Case[]]> = [
  ["forged", FORGED],
  ["confused", CONFUSED],
  ["malformed", MALFORMED],
  ["oversized", OVERSIZED],
  ["duplicated claims", DUPLICATED],
  ["crit and b64", CRIT],
  ["kid injection", KID_INJECTION],
  ["embedded keys", EMBEDDED_KEYS],
  ["issuer lookalikes", ISSUER_LOOKALIKES],
];
const ALL = CORPUS.flatMap(([kind, cases]) => cases.map(([name, make]) => [`${kind}: ${name}`, make] as Case));

describe(`token corpus (${ALL.length} cases): 401 and no upstream call`, () => {
  it("has at least 50 cases", () => {
    expect(ALL.length).toBeGreaterThanOrEqual(50);
  });

  it.each(ALL)("%s", async (_name, makeAuthorization) => {
    const authorization = await makeAuthorization();
    await sandbox.clearRequests();
    const res = await gatewayFetch("/v1/messages", {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: json({ to: "+15551234567", text: "must never be sent" }),
    });
    const body = (await res.json()) as { code: string; message: string };
    expect({ status: res.status, code: body.code }).toEqual({ status: 401, code: "unauthorized" });
    expect(body.message).not.toMatch(/tnt_|zv_live|\bat\s+\S+\s+\(/);
    expect(await sandbox.requests()).toEqual([]);
  });

  it("the same tenants accept their own good tokens (each case fails for its mutation only)", async () => {
    const send = async (token: string) =>
      (
        await gatewayFetch("/v1/messages", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: json({ to: "+15551234567", text: "control" }),
        })
      ).status;
    expect(await send(await signedRsa(good()))).toBe(202);
    expect(await send(await ec.token())).toBe(202);
    expect(await send(await org.token({ org_id: "org_a" }))).toBe(202);
    expect(await send(await org.token({ org_id: "org_b" }))).toBe(202);
    expect(await send(await ed.token())).toBe(202);
    expect(await send(await crafted(rsa, rsaHeader(), json(good())))).toBe(202);
  });
});
