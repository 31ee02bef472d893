import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { Counters } from "../lib/counters";
import type { IdentityConfig } from "../storage/tenants";
import { DEFAULT_ALGORITHMS } from "./jwks";

export const MAX_TOKEN_LENGTH = 8 * 1024;
export const CLOCK_TOLERANCE_SECONDS = 30;

/** Why a token was refused, in words that help the developer and name no other tenant. */
export class TokenRejected extends Error {}

/**
 * Verifies a token against one tenant's identity, per RFC 8725: an allowlist of asymmetric
 * algorithms (never `none`, never HS*), `exp` required, `nbf`/`iat` honoured with a small
 * tolerance, exact issuer, audience when configured, and the claim match when configured.
 * Keys come only from the tenant's registered JWKS; `jku`, `x5u` and embedded `jwk`
 * headers are never consulted.
 */
export async function verifyToken(
  token: string,
  identity: IdentityConfig,
  getKey: JWTVerifyGetKey,
  counters: Counters,
): Promise<JWTPayload> {
  counters.signatureVerifications++;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, getKey, {
      issuer: identity.issuer,
      audience: identity.audience ?? undefined,
      algorithms: identity.algorithms ?? [...DEFAULT_ALGORITHMS],
      requiredClaims: ["exp"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (err) {
    throw new TokenRejected(describe(err));
  }
  if (identity.claim && payload[identity.claim.name] !== identity.claim.value) {
    throw new TokenRejected(`Token claim "${identity.claim.name}" does not match a registered tenant.`);
  }
  return payload;
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "Token has expired.";
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case "aud":
        return "Token audience is not accepted.";
      case "iss":
        return "Token issuer does not match.";
      case "nbf":
        return "Token is not yet valid (nbf).";
      case "iat":
        return "Token iat is in the future.";
      case "exp":
        return "Token has no exp claim; expiring tokens are required.";
      default:
        return `Token claim ${err.claim} is not valid.`;
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return "Token algorithm is not allowed.";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "Token signature is invalid.";
  if (err instanceof errors.JWKSNoMatchingKey) return "No registered key matches the token (kid/alg).";
  if (err instanceof errors.JWKSMultipleMatchingKeys) return "Several registered keys match; give the token a kid.";
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return "Token is malformed.";
  if (err instanceof errors.JOSENotSupported) return "Token uses an unsupported algorithm or feature.";
  return "Token could not be verified.";
}
