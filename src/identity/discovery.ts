import type { JSONWebKeySet, JWK } from "jose";
import { UrlFetchError, urlProblem } from "../lib/url-policy";
import { checkJwks, DEFAULT_ALGORITHMS, fetchJwks, MAX_JWKS_URI_LENGTH } from "./jwks";

/** A public key as the portal shows it (public parameters only, and not even those: just what tells keys apart). */
export interface KeySummary {
  kid: string | null;
  kty: string;
  alg: string | null;
  crv: string | null;
}

export interface IssuerKeys {
  jwks: JSONWebKeySet;
  keys: KeySummary[];
  /** The algorithms these keys sign with (declared, or implied by their type and curve). */
  algorithms: string[];
}

export interface DiscoveredIssuer extends IssuerKeys {
  issuer: string;
  jwksUri: string;
}

/** Why discovery failed, in words fit to show the customer. */
export class DiscoveryError extends Error {
  constructor(
    message: string,
    readonly suggestedIssuer?: string,
  ) {
    super(message);
    this.name = "DiscoveryError";
  }
}

/*
 * Every URL the portal fetches on a customer's behalf follows the URL policy a registered jwksUri
 * follows (src/lib/url-policy.ts: public https host, no credentials, no redirects, 5 s, 64 KiB).
 */
function problemOf(url: string, allowHttp: boolean, what: string): string | null {
  const problem = urlProblem(url, { allowHttpLoopback: allowHttp, maxLength: MAX_JWKS_URI_LENGTH });
  return problem ? `${what} ${problem}` : null;
}

async function fetchPublicJson(url: string, allowHttp: boolean, what: string): Promise<unknown> {
  const problem = problemOf(url, allowHttp, what);
  if (problem) throw new DiscoveryError(`${problem}.`);
  try {
    return await fetchJwks(url, { allowHttpLoopback: allowHttp });
  } catch (err) {
    const reason = err instanceof UrlFetchError ? err.message : "could not be fetched";
    throw new DiscoveryError(`${what} (${url}) ${reason}.`);
  }
}

const IMPLIED_ALG: Record<string, string> = {
  RSA: "RS256",
  "EC/P-256": "ES256",
  "EC/P-384": "ES384",
  "EC/P-521": "ES512",
  "OKP/Ed25519": "EdDSA",
};

function summarize(jwk: JWK): KeySummary {
  return { kid: jwk.kid ?? null, kty: String(jwk.kty), alg: jwk.alg ?? null, crv: jwk.crv ?? null };
}

/** The usable public signing keys of a JWKS document (judged by checkJwks), or why there are none. */
export async function keysOf(document: unknown): Promise<IssuerKeys> {
  const { keys, problems } = await checkJwks(document, DEFAULT_ALGORITHMS);
  if (keys.length === 0) {
    const first = problems[0];
    throw new DiscoveryError(
      `The JWKS has no usable public signing key${first ? ` (${first.path}: ${first.message})` : ""}.`,
    );
  }
  const algorithms = new Set<string>();
  for (const k of keys) {
    const alg = k.alg ?? IMPLIED_ALG[k.kty === "RSA" ? "RSA" : `${k.kty}/${k.crv}`];
    if (alg) algorithms.add(alg);
  }
  return { jwks: { keys }, keys: keys.map(summarize), algorithms: [...algorithms] };
}

/** Fetches and checks a jwks_uri under the jwksUri rules. */
export async function loadIssuerKeys(jwksUri: string, opts: { allowHttp: boolean }): Promise<IssuerKeys> {
  return keysOf(await fetchPublicJson(jwksUri, opts.allowHttp, "jwksUri"));
}

/**
 * OpenID Connect discovery: the issuer's /.well-known/openid-configuration, then its jwks_uri.
 * The document must name exactly the issuer asked for (OpenID Connect Discovery 1.0, 4.3):
 * tokens will be checked against that exact string.
 */
export async function discoverIssuer(issuer: string, opts: { allowHttp: boolean }): Promise<DiscoveredIssuer> {
  const configUrl = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const problem = problemOf(issuer, opts.allowHttp, "The issuer");
  if (problem) throw new DiscoveryError(`${problem}.`);
  const doc = (await fetchPublicJson(configUrl, opts.allowHttp, "The discovery document")) as Record<
    string,
    unknown
  > | null;
  if (typeof doc !== "object" || doc === null || typeof doc.jwks_uri !== "string") {
    throw new DiscoveryError(`The discovery document at ${configUrl} has no jwks_uri.`);
  }
  if (doc.issuer !== issuer) {
    const named = typeof doc.issuer === "string" && doc.issuer.length <= 500 ? doc.issuer : undefined;
    throw new DiscoveryError(
      named
        ? `The provider names its issuer "${named}", not "${issuer}". Tokens carry the provider's exact string: use "${named}".`
        : `The discovery document at ${configUrl} names no issuer.`,
      named,
    );
  }
  const keys = await loadIssuerKeys(doc.jwks_uri, opts);
  return { issuer, jwksUri: doc.jwks_uri, ...keys };
}
