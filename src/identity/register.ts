import type { JSONWebKeySet } from "jose";
import { apiError } from "../errors";
import { UrlFetchError } from "../lib/url-policy";
import type { IdentityConfig, TenantRepo } from "../storage/tenants";
import { checkJwks, DEFAULT_ALGORITHMS, fetchJwks, jwksUriProblem } from "./jwks";
import { sharedIssuerProblem } from "./shared-issuers";

export interface IdentityInput {
  issuer: string;
  audience?: string | string[];
  jwksUri?: string;
  jwks?: Record<string, unknown>;
  algorithms?: string[];
  claim?: { name: string; value: string };
}

const invalid = (message: string, details?: unknown) => apiError("invalid_request", message, details);
/** Problems of a key set, with paths from the top of the request body (as schema errors have). */
const at =
  (prefix: string) =>
  ({ path, message }: { path: string; message: string }) => ({ path: `${prefix}.${path}`, message });

/** An identity that passed checkIdentity, with the keys it was judged by (fetched once, for a jwksUri). */
export interface CheckedIdentity {
  identity: IdentityConfig;
  keys: JSONWebKeySet;
}

/**
 * The one check of an identity a reseller or a customer registers: it becomes a usable identity, with
 * its keys, or is refused with 400. Keys must be public, asymmetric, and (for a jwksUri) fetchable
 * right now from a public https host (one fetch; callers reuse `keys` rather than fetch again); an
 * issuer shared by unrelated parties (Google, Microsoft's common endpoints, ...) must name an
 * audience and, for some, a pinning claim (400 invalid_identity). The portal's token test sets
 * `reportSharedIssuer` to show that rule as a failed check instead; everything that stores an
 * identity leaves it unset.
 */
export async function checkIdentity(
  input: IdentityInput,
  opts: { allowHttpJwks: boolean; reportSharedIssuer?: boolean },
): Promise<CheckedIdentity> {
  const shared = opts.reportSharedIssuer ? null : sharedIssuerProblem(input);
  if (shared) {
    throw apiError("invalid_identity", shared.message, [{ path: `identity.${shared.check}`, message: shared.message }]);
  }
  if ((input.jwksUri === undefined) === (input.jwks === undefined)) {
    throw invalid("identity needs exactly one of jwksUri or jwks.");
  }
  const algorithms = input.algorithms ?? null;
  const bad = algorithms?.filter((a) => !(DEFAULT_ALGORITHMS as readonly string[]).includes(a)) ?? [];
  if (bad.length > 0) {
    throw invalid(
      `identity.algorithms may only name asymmetric algorithms (${DEFAULT_ALGORITHMS.join(", ")}); refused: ${bad.join(", ")}.`,
    );
  }
  const allowed = algorithms ?? DEFAULT_ALGORITHMS;

  let jwks: JSONWebKeySet | null = null;
  let usable: JSONWebKeySet;
  if (input.jwksUri !== undefined) {
    const problem = jwksUriProblem(input.jwksUri, opts.allowHttpJwks);
    if (problem) throw invalid(`identity.jwksUri ${problem}.`);
    let fetched: unknown;
    try {
      fetched = await fetchJwks(input.jwksUri, { allowHttpLoopback: opts.allowHttpJwks });
    } catch (err) {
      throw invalid(`identity.jwksUri ${err instanceof UrlFetchError ? err.message : "could not be fetched"}.`);
    }
    const { keys, problems } = await checkJwks(fetched, allowed);
    if (keys.length === 0) {
      throw invalid("identity.jwksUri serves no usable public signing key.", problems.map(at("identity.jwksUri")));
    }
    usable = { keys };
  } else {
    const { keys, problems } = await checkJwks(input.jwks, allowed);
    if (problems.length > 0)
      throw invalid("identity.jwks has keys that cannot be used.", problems.map(at("identity.jwks")));
    jwks = { keys };
    usable = jwks;
  }
  const identity: IdentityConfig = {
    issuer: input.issuer,
    audience: input.audience === undefined ? null : Array.isArray(input.audience) ? input.audience : [input.audience],
    jwksUri: input.jwksUri ?? null,
    jwks,
    algorithms,
    claim: input.claim ?? null,
  };
  return { identity, keys: usable };
}

/**
 * One identity (issuer + claim value) belongs to one tenant. Tenants sharing an issuer are
 * told apart by one claim, the same for all of them, so a token can never match two.
 */
export async function assertIdentityFree(
  repo: TenantRepo,
  identity: IdentityConfig,
  exceptTenantId?: string,
): Promise<void> {
  const others = (await repo.identitiesForIssuer(identity.issuer)).filter((i) => i.tenantId !== exceptTenantId);
  if (others.length === 0) return;
  const conflict = (message: string) => apiError("conflict", message);
  if (!identity.claim || others.some((o) => o.claimName === "")) {
    throw conflict(
      "This issuer is already registered to another tenant. Tenants can share an issuer only when each names a claim value.",
    );
  }
  if (others[0]!.claimName !== identity.claim.name) {
    throw conflict(
      `Tenants of this issuer are told apart by the claim "${others[0]!.claimName}"; use that claim name.`,
    );
  }
  if (others.some((o) => o.claimValue === identity.claim!.value)) {
    throw conflict("This issuer and claim value are already registered to another tenant.");
  }
}
