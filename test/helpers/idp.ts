import { env } from "cloudflare:workers";
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";

export type SigningAlg = "RS256" | "ES256" | "EdDSA";

/** An identity provider made in the test: a key pair, its public JWKS and a token signer. */
export class TestIdp {
  private constructor(
    readonly issuer: string,
    readonly alg: SigningAlg,
    readonly kid: string,
    readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
  ) {}

  static async create(
    issuer: string,
    alg: SigningAlg = "ES256",
    kid = `${alg.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}`,
  ) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
    return new TestIdp(issuer, alg, kid, privateKey, publicJwk);
  }

  jwks(extra: JWK[] = []): JSONWebKeySet {
    return { keys: [this.publicJwk, ...extra] };
  }

  /** A valid token by default; every field can be overridden to make a bad one. */
  async token(
    claims: JWTPayload = {},
    opts: { expiresIn?: string | number | null; header?: Record<string, unknown>; key?: CryptoKey } = {},
  ): Promise<string> {
    const jwt = new SignJWT({ sub: "user-1", ...claims })
      .setProtectedHeader({ alg: this.alg, kid: this.kid, ...opts.header })
      .setIssuedAt();
    if (claims.iss === undefined) jwt.setIssuer(this.issuer);
    if (opts.expiresIn !== null && claims.exp === undefined) jwt.setExpirationTime(opts.expiresIn ?? "10m");
    return jwt.sign(opts.key ?? this.privateKey);
  }
}

/** Publishes a JWKS on the test IdP worker, reachable by the gateway at https://idp.test<path>. */
export async function publishJwks(path: string, jwks: unknown, status = 200): Promise<string> {
  await env.IDP.fetch("https://idp.test/__idp/publish", {
    method: "POST",
    body: JSON.stringify({ path, jwks, status }),
  });
  return `https://idp.test${path}`;
}

export async function jwksFetchCount(path: string): Promise<number> {
  const stats = (await (await env.IDP.fetch("https://idp.test/__idp/stats")).json()) as Record<string, number>;
  return stats[path] ?? 0;
}

/** Base64url without padding, for hand-made tokens. */
export function b64url(value: string | Uint8Array): string {
  const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
