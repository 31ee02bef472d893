import type { JSONWebKeySet, JWK } from "jose";
import { readLimited } from "../lib/read-limited";

/** Asymmetric algorithms only: HS* would turn a public key into a shared secret. */
export const DEFAULT_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;
export const MAX_JWKS_BYTES = 64 * 1024;
export const MAX_JWKS_URI_LENGTH = 400;

export type JwksProblem = { path: string; message: string };

/** Why one JWK cannot be a tenant's signing key, or null when it can. */
function jwkProblem(raw: unknown, algorithms: readonly string[]): string | null {
  if (typeof raw !== "object" || raw === null) return "not a JWK object";
  const jwk = raw as JWK;
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) {
    return "private or symmetric key material is not accepted; publish public keys only";
  }
  if (!["RSA", "EC", "OKP"].includes(String(jwk.kty))) return `kty ${String(jwk.kty)} is not an asymmetric key type`;
  if (jwk.use !== undefined && jwk.use !== "sig") return 'use must be "sig"';
  if (jwk.alg !== undefined && !algorithms.includes(jwk.alg)) return `alg ${jwk.alg} is not allowed`;
  return null;
}

/**
 * Checks a JWKS a tenant registered (or its IdP served). Returns the usable public signing
 * keys and what was wrong with the rest. Private or symmetric material is never usable.
 */
export function inspectJwks(value: unknown, algorithms: readonly string[]): { keys: JWK[]; problems: JwksProblem[] } {
  const problems: JwksProblem[] = [];
  const keys: JWK[] = [];
  const list = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) return { keys, problems: [{ path: "keys", message: "a JWKS needs a keys array" }] };
  for (const [i, raw] of list.entries()) {
    const problem = jwkProblem(raw, algorithms);
    if (problem) problems.push({ path: `keys[${i}]`, message: problem });
    else keys.push(raw as JWK);
  }
  if (keys.length === 0 && problems.length === 0) problems.push({ path: "keys", message: "no keys" });
  return { keys, problems };
}

/** The public keys of a JWKS, or throws with the first problem. */
export function usableJwks(value: unknown, algorithms: readonly string[] = DEFAULT_ALGORITHMS): JSONWebKeySet {
  const { keys, problems } = inspectJwks(value, algorithms);
  if (keys.length === 0) throw new Error(problems[0]?.message ?? "no usable keys");
  return { keys };
}

const PRIVATE_V4 = [
  /^0\./,
  /^10\./,
  /^127\./,
  /^169\.254\./,
  /^172\.(1[6-9]|2\d|3[01])\./,
  /^192\.168\./,
  /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./,
];

/**
 * A jwksUri may only point at a public https host: no credentials, no IP literals of
 * private ranges, no localhost (unless ALLOW_HTTP_JWKS for local development).
 * Returns an error message, or null when the URL is acceptable.
 */
export function jwksUriProblem(uri: string, allowHttp: boolean): string | null {
  if (uri.length > MAX_JWKS_URI_LENGTH) return `jwksUri must be at most ${MAX_JWKS_URI_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "jwksUri is not a valid URL";
  }
  if (url.protocol !== "https:" && !(allowHttp && url.protocol === "http:")) {
    return allowHttp ? "jwksUri must use https or http" : "jwksUri must use https";
  }
  if (url.username || url.password) return "jwksUri must not contain credentials";
  if (allowHttp) return null;
  const host = url.hostname.toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".internal") || host.endsWith(".local")) {
    return "jwksUri must name a public host";
  }
  if (host.startsWith("[") || PRIVATE_V4.some((re) => re.test(host)) || /^\d+$/.test(host)) {
    return "jwksUri must name a public host, not a private or loopback address";
  }
  if (url.port && url.port !== "443") return "jwksUri must use the default https port";
  return null;
}

export class JwksFetchError extends Error {}

/** Fetches a JWKS without following redirects, bounded in time and size. */
export async function fetchJwks(uri: string, timeoutMs = 5_000): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(uri, {
      redirect: "manual",
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    throw new JwksFetchError("the JWKS could not be fetched (connection failed or timed out)");
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new JwksFetchError(`the JWKS endpoint answered HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (declared > MAX_JWKS_BYTES) {
    await res.body?.cancel();
    throw new JwksFetchError("the JWKS is too large");
  }
  const bytes = res.body ? await readLimited(res.body, MAX_JWKS_BYTES) : new Uint8Array();
  if (bytes === null) throw new JwksFetchError("the JWKS is too large");
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new JwksFetchError("the JWKS endpoint did not return JSON");
  }
}
