import { importJWK, type JWK } from "jose";
import { fetchBounded, UrlFetchError, type UrlPolicyOptions, urlProblem } from "../lib/url-policy";

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
 * The static half of checkJwks: which entries could be public signing keys at all. Private or
 * symmetric material is never usable.
 */
function inspectJwks(value: unknown, algorithms: readonly string[]): { keys: JWK[]; problems: JwksProblem[] } {
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

/** The curve each ECDSA algorithm signs with. */
const EC_CURVES: Record<string, string> = { ES256: "P-256", ES384: "P-384", ES512: "P-521" };
const RSA_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 8192;

/** The algorithm a key will verify with: its own alg, or the first allowed one its type and curve fit. */
function algorithmFor(jwk: JWK, algorithms: readonly string[]): string | { problem: string } {
  if (jwk.kty === "RSA") {
    if (jwk.alg !== undefined && !RSA_ALGORITHMS.includes(jwk.alg))
      return { problem: `alg ${jwk.alg} cannot use an RSA key` };
    return (
      jwk.alg ?? algorithms.find((a) => RSA_ALGORITHMS.includes(a)) ?? { problem: "no allowed algorithm uses RSA keys" }
    );
  }
  if (jwk.kty === "EC") {
    const crv = String(jwk.crv);
    const fits = Object.keys(EC_CURVES).filter((a) => EC_CURVES[a] === crv);
    if (fits.length === 0) return { problem: `curve ${crv} is not supported (P-256, P-384 or P-521)` };
    if (jwk.alg !== undefined && !fits.includes(jwk.alg)) {
      return {
        problem: `curve ${crv} does not match alg ${jwk.alg} (${jwk.alg} signs with ${EC_CURVES[jwk.alg] ?? "another key type"})`,
      };
    }
    return jwk.alg ?? fits.find((a) => algorithms.includes(a)) ?? { problem: `no allowed algorithm uses curve ${crv}` };
  }
  if (jwk.crv !== "Ed25519")
    return { problem: `curve ${String(jwk.crv)} cannot verify signatures here (Ed25519 only)` };
  if (jwk.alg !== undefined && jwk.alg !== "EdDSA" && jwk.alg !== "Ed25519") {
    return { problem: `alg ${jwk.alg} cannot use an Ed25519 key` };
  }
  return (
    jwk.alg ??
    algorithms.find((a) => a === "EdDSA" || a === "Ed25519") ?? { problem: "no allowed algorithm uses Ed25519 keys" }
  );
}

/** Why a statically acceptable JWK still cannot verify anything, found by importing it; null when it can. */
async function importProblem(jwk: JWK, algorithms: readonly string[]): Promise<string | null> {
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))) {
    return 'key_ops must include "verify"';
  }
  const alg = algorithmFor(jwk, algorithms);
  if (typeof alg !== "string") return alg.problem;
  let key: CryptoKey;
  try {
    key = (await importJWK(jwk, alg)) as CryptoKey;
  } catch {
    if (jwk.kty === "EC")
      return `not a valid point on ${String(jwk.crv)} (x and y must be the public key's coordinates)`;
    if (jwk.kty === "RSA")
      return "not a valid RSA public key (n and e must be the modulus and a valid public exponent)";
    return "not a valid Ed25519 public key (x must be 32 bytes)";
  }
  if (jwk.kty === "RSA") {
    const bits = (key.algorithm as { modulusLength: number }).modulusLength;
    if (bits < MIN_RSA_BITS) return `RSA modulus is ${bits} bits; at least ${MIN_RSA_BITS} are required`;
    if (bits > MAX_RSA_BITS) return `RSA modulus is ${bits} bits; at most ${MAX_RSA_BITS} are accepted`;
  }
  return null;
}

/**
 * The one judge of a key set, whoever gave it (a reseller, a customer in the portal, an IdP's
 * jwks_uri on refresh): returns the usable public signing keys and what was wrong with the rest.
 * Every key is imported as it will be used: private or symmetric material, RSA moduli under 2048
 * bits, points off their curve, curves that do not match the alg, non-signing curves and repeated
 * kids are refused with a reason per key. A key accepted here can verify a token.
 */
export async function checkJwks(
  value: unknown,
  algorithms: readonly string[],
): Promise<{ keys: JWK[]; problems: JwksProblem[] }> {
  const inspected = inspectJwks(value, algorithms);
  const list = (value as { keys?: unknown[] } | null)?.keys ?? [];
  const problems = [...inspected.problems];
  const keys: JWK[] = [];
  const kids = new Set<string>();
  for (const jwk of inspected.keys) {
    const path = `keys[${list.indexOf(jwk)}]`;
    const problem =
      typeof jwk.kid === "string" && kids.has(jwk.kid)
        ? `kid ${JSON.stringify(jwk.kid)} is already used by another key in this set`
        : await importProblem(jwk, algorithms);
    if (problem) problems.push({ path, message: problem });
    else keys.push(jwk);
    if (typeof jwk.kid === "string") kids.add(jwk.kid);
  }
  problems.sort((a, b) => a.path.localeCompare(b.path, "en", { numeric: true }));
  return { keys, problems };
}

/** Why a jwksUri may not be registered, or null (the shared URL policy, with the jwksUri length cap). */
export function jwksUriProblem(uri: string, allowHttpLoopback: boolean): string | null {
  return urlProblem(uri, { allowHttpLoopback, maxLength: MAX_JWKS_URI_LENGTH });
}

/**
 * Fetches a JWKS under the URL policy: no redirects, bounded in time and size. Registration passes
 * the configured mode; refreshes of stored URIs (checked at registration) apply the rules that hold
 * in every mode, so a stored URI can never reach a private or special-purpose address.
 */
export async function fetchJwks(
  uri: string,
  // Required, so no caller can fall back on the development rules: each passes the deployment's ALLOW_HTTP_JWKS.
  opts: UrlPolicyOptions & { allowHttpLoopback: boolean; timeoutMs?: number },
): Promise<unknown> {
  const bytes = await fetchBounded(uri, {
    ...opts,
    maxLength: MAX_JWKS_URI_LENGTH,
    timeoutMs: opts.timeoutMs ?? 5_000,
    maxBytes: MAX_JWKS_BYTES,
  });
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new UrlFetchError("did not return JSON");
  }
}
