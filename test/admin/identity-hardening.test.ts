import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import gateway from "../../src/index";
import { ADMIN_TOKEN, admin, tenantBody } from "../helpers/admin";
import { GATEWAY_URL, gatewayClient } from "../helpers/gateway";
import { publishJwks, TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";

beforeAll(async () => {
  await sandbox.reset();
});

const newIssuer = () => `https://${crypto.randomUUID()}.idp.example`;

/** What the admin API did with a registration that must be refused: 400, and nothing created anywhere. */
async function expectRefused(body: unknown, message: RegExp, path = "/tenants") {
  await sandbox.clearRequests();
  const before = (await admin("GET", "/tenants?limit=100")).body.items.length;
  const res = await admin("POST", path, { body });
  expect({ status: res.status, code: res.body?.code }, res.text).toEqual({ status: 400, code: "invalid_request" });
  expect(res.body.message, res.text).toMatch(message);
  expect((await admin("GET", "/tenants?limit=100")).body.items.length).toBe(before);
  expect((await sandbox.requests()).filter((r) => r.path.startsWith("/v1/sub-accounts"))).toEqual([]);
  return res;
}

async function rsaJwk(bits: number, extra: Partial<JWK> = {}): Promise<JWK> {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  return { ...(await exportJWK(pair.publicKey)), kid: `rsa-${bits}`, ...extra };
}

describe("identity input: control and invisible characters are refused at the schema", () => {
  const INVISIBLE: Array<[string, string]> = [
    ["NUL", "\u0000"],
    ["LF", "\n"],
    ["CR", "\r"],
    ["TAB", "\t"],
    ["DEL", "\u007f"],
    ["NEL (C1)", "\u0085"],
    ["CSI (C1)", "\u009b"],
    ["zero-width space", "\u200b"],
    ["zero-width non-joiner", "\u200c"],
    ["zero-width joiner", "\u200d"],
    ["word joiner", "\u2060"],
    ["BOM", "\ufeff"],
    ["right-to-left override", "\u202e"],
    ["left-to-right isolate", "\u2066"],
    ["Arabic letter mark", "\u061c"],
    ["soft hyphen", "\u00ad"],
    ["line separator", "\u2028"],
    ["no-break space", "\u00a0"],
    ["Hangul filler", "\u3164"],
    ["tag character", "\u{e0041}"],
  ];

  it.each(INVISIBLE)("refuses %s in the issuer, an audience and a claim value", async (_name, ch) => {
    const idp = await TestIdp.create(newIssuer());
    const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ issuer: `${idp.issuer}${ch}`, jwks: idp.jwks() }, /identity\.issuer/],
      [{ issuer: `https://acme${ch}.idp.example`, jwks: idp.jwks() }, /identity\.issuer/],
      [{ issuer: idp.issuer, jwks: idp.jwks(), audience: `api${ch}` }, /identity\.audience/],
      [{ issuer: idp.issuer, jwks: idp.jwks(), audience: ["api", `api${ch}`] }, /identity\.audience\.1/],
      [
        { issuer: idp.issuer, jwks: idp.jwks(), claim: { name: "org_id", value: `org${ch}1` } },
        /identity\.claim\.value/,
      ],
    ];
    for (const [identity, field] of cases) {
      const res = await expectRefused(tenantBody(identity), field);
      expect(res.body.message).toContain(code);
    }
  });

  it("refuses leading or trailing spaces in an issuer or claim value", async () => {
    const idp = await TestIdp.create(newIssuer());
    await expectRefused(tenantBody({ issuer: ` ${idp.issuer}`, jwks: idp.jwks() }), /identity\.issuer.*space/);
    await expectRefused(
      tenantBody({ issuer: idp.issuer, jwks: idp.jwks(), claim: { name: "org", value: "org_1 " } }),
      /identity\.claim\.value.*space/,
    );
  });

  it("keeps two identities that differ only in such characters from both existing", async () => {
    const idp = await TestIdp.create(newIssuer());
    const org = (issuer: string, value: string) =>
      tenantBody({ issuer, jwks: idp.jwks(), claim: { name: "org_id", value } });
    expect((await admin("POST", "/tenants", { body: org(idp.issuer, "org_1") })).status).toBe(201);
    // Lookalikes of the registered identity.
    await expectRefused(org(idp.issuer, "org_1\u200b"), /claim\.value/);
    await expectRefused(org(`${idp.issuer}\u200b`, "org_1"), /issuer/);
    // The pair an issuer + "\n" + claim cache key could not tell apart.
    await expectRefused(org(`${idp.issuer}\norg_1`, "x"), /issuer/);
    await expectRefused(org(idp.issuer, "org_1\nx"), /claim\.value/);
    // The same rules hold on import and on PUT identity.
    await expectRefused(
      {
        subAccountId: "sa_x",
        apiKey: "zv_live_sub_notarealkey",
        identity: { issuer: `${idp.issuer}\r`, jwks: idp.jwks() },
      },
      /identity\.issuer/,
      "/tenants/import",
    );
    const other = await TestIdp.create(newIssuer());
    const created = await admin("POST", "/tenants", { body: tenantBody({ issuer: other.issuer, jwks: other.jwks() }) });
    const put = await admin("PUT", `/tenants/${created.body.tenant.id}/identity`, {
      body: { issuer: other.issuer, jwks: other.jwks(), audience: "a\u202eb" },
    });
    expect([put.status, put.body.code]).toEqual([400, "invalid_request"]);
    expect((await admin("GET", `/tenants/${created.body.tenant.id}`)).body.tenant.identity.audience).toBeNull();
  });
});

describe("identity input: every inline key is imported at registration, unusable ones refused", () => {
  let ec: JWK;
  let ec384: JWK;
  let ed: JWK;

  beforeAll(async () => {
    ec = { ...(await exportJWK((await generateKeyPair("ES256", { extractable: true })).publicKey)), kid: "ec" };
    ec384 = { ...(await exportJWK((await generateKeyPair("ES384", { extractable: true })).publicKey)), kid: "ec384" };
    ed = { ...(await exportJWK((await generateKeyPair("EdDSA", { extractable: true })).publicKey)), kid: "ed" };
  });

  const flip = (b64: string) => b64.slice(0, 5) + (b64[5] === "A" ? "B" : "A") + b64.slice(6);

  const CASES: Array<[string, () => Promise<JWK>, RegExp]> = [
    ["RSA with a 1024-bit modulus", () => rsaJwk(1024, { alg: "RS256" }), /1024 bits.*2048/],
    ["RSA with a 1024-bit modulus and no alg", () => rsaJwk(1024), /1024 bits.*2048/],
    ["RSA with a 512-bit modulus (PS256)", () => rsaJwk(512, { alg: "PS256" }), /512 bits.*2048/],
    ["RSA with public exponent 1", async () => ({ ...(await rsaJwk(2048)), e: "AQ" }), /RSA/],
    ["RSA with an empty modulus", async () => ({ ...(await rsaJwk(2048)), n: "" }), /RSA/],
    ["RSA labelled ES256", () => rsaJwk(2048, { alg: "ES256" }), /ES256.*RSA|RSA.*ES256/],
    ["EC point not on the curve", async () => ({ ...ec, x: flip(ec.x!) }), /not a valid point|P-256/],
    ["EC coordinate too short", async () => ({ ...ec, y: ec.y!.slice(0, 20) }), /not a valid point|P-256/],
    ["EC without y", async () => ({ ...ec, y: undefined }), /EC|y/],
    ["P-384 key labelled ES256", async () => ({ ...ec384, alg: "ES256" }), /P-384.*ES256|ES256.*P-256/],
    ["P-256 key labelled ES512", async () => ({ ...ec, alg: "ES512" }), /P-256.*ES512|ES512.*P-521/],
    ["EC on secp256k1", async () => ({ ...ec, crv: "secp256k1" }), /curve/],
    ["OKP X25519 (key agreement, not signing)", async () => ({ ...ed, crv: "X25519" }), /X25519/],
    ["OKP Ed448", async () => ({ ...ed, crv: "Ed448" }), /Ed448/],
    ["Ed25519 with a short x", async () => ({ ...ed, x: ed.x!.slice(0, 10) }), /Ed25519/],
    ["key_ops that exclude verify", async () => ({ ...ec, key_ops: ["sign"] }), /key_ops/],
  ];

  it.each(CASES)("refuses %s with a reason for that key", async (_name, make, reason) => {
    const issuer = newIssuer();
    const idp = await TestIdp.create(issuer);
    const res = await expectRefused(
      tenantBody({ issuer, jwks: { keys: [idp.publicJwk, await make()] } }),
      /cannot be used/,
    );
    expect(res.body.details).toEqual([{ path: "identity.jwks.keys[1]", message: expect.stringMatching(reason) }]);
  });

  it("refuses two keys with the same kid", async () => {
    const idp = await TestIdp.create(newIssuer());
    const res = await expectRefused(
      tenantBody({ issuer: idp.issuer, jwks: { keys: [idp.publicJwk, { ...ec, kid: idp.kid }] } }),
      /cannot be used/,
    );
    expect(res.body.details[0]).toMatchObject({ path: "identity.jwks.keys[1]", message: expect.stringMatching(/kid/) });
  });

  it("accepts good keys of every family, and the tenant's tokens verify", async () => {
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
      const idp = await TestIdp.create(newIssuer(), alg);
      const res = await admin("POST", "/tenants", { body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }) });
      expect(res.status, res.text).toBe(201);
      expect((await gatewayClient(await idp.token()).balance.retrieve()).isSubAccount).toBe(true);
    }
  });

  it.each([[null], ["keys"], [[1, 2]], [{ keys: null }], [{ keys: [null, 7] }]])(
    "refuses a jwksUri that serves %j instead of a key set",
    async (served) => {
      const uri = await publishJwks(`/odd/${crypto.randomUUID()}.json`, served);
      await expectRefused(tenantBody({ issuer: newIssuer(), jwksUri: uri }), /no usable public signing key/);
    },
  );

  it("refuses a jwksUri that serves only unusable keys, and names them", async () => {
    const issuer = newIssuer();
    const uri = await publishJwks(`/weak/${crypto.randomUUID()}.json`, {
      keys: [await rsaJwk(1024, { alg: "RS256" })],
    });
    const res = await expectRefused(tenantBody({ issuer, jwksUri: uri }), /no usable public signing key/);
    expect(res.body.details[0].message).toMatch(/1024 bits/);
  });
});

describe("jwksUri: the URL policy applies through the admin API", () => {
  it.each([
    "https://localhost./jwks.json",
    "https://localhost%2E/jwks.json",
    "https://idp.test./jwks.json",
    "https://127.1/jwks.json",
    "https://0x7f000001/jwks.json",
    "https://198.18.0.1/jwks.json",
    "https://224.0.0.1/jwks.json",
    "https://255.255.255.255/jwks.json",
    "https://192.0.0.8/jwks.json",
    "https://[::ffff:169.254.169.254]/jwks.json",
    "https://lvh.me/jwks.json",
    "https://127.0.0.1.nip.io/jwks.json",
  ])("refuses %s before fetching anything", async (jwksUri) => {
    await expectRefused(tenantBody({ issuer: newIssuer(), jwksUri }), /identity\.jwksUri.*public host/);
  });

  it("does not follow a redirect, even to a public host", async () => {
    const idp = await TestIdp.create(newIssuer());
    const target = await publishJwks(`/target/${crypto.randomUUID()}.json`, idp.jwks());
    const path = `/redirect/${crypto.randomUUID()}.json`;
    await env.IDP.fetch("https://idp.test/__idp/publish", {
      method: "POST",
      body: JSON.stringify({ path, redirectTo: target }),
    });
    await expectRefused(tenantBody({ issuer: idp.issuer, jwksUri: `https://idp.test${path}` }), /redirect/);
  });
});

describe("ALLOW_HTTP_JWKS relaxes only the scheme and loopback hosts", () => {
  const devEnv = { ...env, ALLOW_HTTP_JWKS: "true" };

  async function devCreate(identity: Record<string, unknown>) {
    const ctx = createExecutionContext();
    const res = await gateway.fetch(
      new Request(`${GATEWAY_URL}/admin/v1/tenants`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(tenantBody(identity)),
      }),
      devEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return { status: res.status, body: (await res.json()) as { code: string; message: string } };
  }

  it.each([
    "http://10.0.0.1/jwks.json",
    "http://169.254.169.254/latest/meta-data/",
    "http://192.168.1.1:8080/jwks.json",
    "http://198.18.0.1/jwks.json",
    "http://[fe80::1]/jwks.json",
    "http://localtest.me:8080/jwks.json",
    "http://metadata.google.internal/computeMetadata/v1/",
  ])("still refuses %s", async (jwksUri) => {
    const res = await devCreate({ issuer: newIssuer(), jwksUri });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/identity\.jwksUri.*public host/);
  });

  it("still refuses credentials and non-default ports on other hosts", async () => {
    expect((await devCreate({ issuer: newIssuer(), jwksUri: "http://u:p@localhost:8080/j" })).body.message).toMatch(
      /credentials/,
    );
    expect((await devCreate({ issuer: newIssuer(), jwksUri: "http://idp.test:8080/j" })).body.message).toMatch(/port/);
  });

  it("accepts plain http on a public name, which production refuses", async () => {
    const idp = await TestIdp.create(newIssuer());
    const uri = (await publishJwks(`/dev/${crypto.randomUUID()}.json`, idp.jwks())).replace("https:", "http:");
    await expectRefused(tenantBody({ issuer: idp.issuer, jwksUri: uri }), /https/);
    const res = await devCreate({ issuer: idp.issuer, jwksUri: uri });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });
});
