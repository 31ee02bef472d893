import {
  compactVerify,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
} from "jose";
import { DEFAULT_ALGORITHMS } from "../identity/jwks";
import { sharedIssuerProblem } from "../identity/shared-issuers";
import { CLOCK_TOLERANCE_SECONDS, MAX_TOKEN_LENGTH, TokenRejected, verifyToken } from "../identity/verify";
import type { Counters } from "../lib/counters";
import type { IdentityConfig } from "../storage/tenants";

export type CheckName = "format" | "algorithm" | "signature" | "issuer" | "audience" | "expiry" | "claim" | "gateway";

export interface Check {
  name: CheckName;
  ok: boolean;
  reason?: string;
  /** Passed, but with a risk the customer should weigh (e.g. no audience on its own issuer). */
  warning?: boolean;
}

export interface TokenReport {
  ok: boolean;
  checks: Check[];
  /** The token's payload, decoded (the customer's own token; shown to help, never stored). */
  claims: JWTPayload | null;
}

const quote = (v: unknown) => JSON.stringify(v)?.slice(0, 200) ?? "nothing";

function minutesAgo(seconds: number, now: number): string {
  const minutes = Math.round((now / 1000 - seconds) / 60);
  return minutes >= 1 ? ` (${minutes} min ago)` : "";
}

async function signatureCheck(token: string, kid: string | undefined, keys: JSONWebKeySet, algorithms: string[]) {
  try {
    await compactVerify(token, createLocalJWKSet(keys), { algorithms });
    return {
      name: "signature",
      ok: true,
      reason: `Signed by key ${kid ?? "(no kid; the only matching key)"}.`,
    } as const;
  } catch (err) {
    const kids = keys.keys.map((k) => k.kid ?? "(no kid)").join(", ");
    let reason = "The signature does not verify with the provider's keys.";
    if (err instanceof errors.JWKSNoMatchingKey)
      reason = kid
        ? `No key has kid "${kid}" (the keys found: ${kids}). Is the token from this provider?`
        : `No key matches this token's algorithm (the keys found: ${kids}).`;
    else if (err instanceof errors.JWKSMultipleMatchingKeys)
      reason = "The token has no kid and several keys match it; the provider should set kid.";
    else if (err instanceof errors.JOSEAlgNotAllowed) reason = "Not checked: the algorithm is not accepted.";
    return { name: "signature", ok: false, reason } as const;
  }
}

function claimChecks(payload: JWTPayload, identity: IdentityConfig, now: number): Check[] {
  const checks: Check[] = [];
  checks.push(
    payload.iss === identity.issuer
      ? { name: "issuer", ok: true }
      : {
          name: "issuer",
          ok: false,
          reason: `The token's issuer is ${quote(payload.iss)}; expected ${quote(identity.issuer)}.`,
        },
  );

  const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const shared = sharedIssuerProblem(identity);
  if (shared?.check === "audience") {
    checks.push({ name: "audience", ok: false, reason: shared.message });
  } else if (!identity.audience) {
    checks.push({
      name: "audience",
      ok: true,
      warning: true,
      reason:
        "No audience configured: every token this issuer signs is accepted, whatever app it was made for. Set the audience if your tokens carry one.",
    });
  } else if (aud.some((a) => identity.audience!.includes(a))) {
    checks.push({ name: "audience", ok: true });
  } else {
    checks.push({
      name: "audience",
      ok: false,
      reason: `The token's audience is ${quote(payload.aud)}; expected ${identity.audience.map(quote).join(" or ")}.`,
    });
  }

  const t = now / 1000;
  if (typeof payload.exp !== "number") {
    checks.push({
      name: "expiry",
      ok: false,
      reason: "The token has no exp claim; the gateway accepts only expiring tokens.",
    });
  } else if (payload.exp <= t - CLOCK_TOLERANCE_SECONDS) {
    checks.push({
      name: "expiry",
      ok: false,
      reason: `The token expired at ${new Date(payload.exp * 1000).toISOString()}${minutesAgo(payload.exp, now)}. Get a fresh one.`,
    });
  } else if (typeof payload.nbf === "number" && payload.nbf > t + CLOCK_TOLERANCE_SECONDS) {
    checks.push({ name: "expiry", ok: false, reason: "The token is not valid yet (nbf is in the future)." });
  } else if (typeof payload.iat === "number" && payload.iat > t + CLOCK_TOLERANCE_SECONDS) {
    checks.push({ name: "expiry", ok: false, reason: "The token was issued in the future (iat); check the clocks." });
  } else {
    checks.push({ name: "expiry", ok: true, reason: `Valid until ${new Date(payload.exp * 1000).toISOString()}.` });
  }

  if (shared?.check === "claim") {
    checks.push({ name: "claim", ok: false, reason: shared.message });
  } else if (!identity.claim) {
    checks.push({ name: "claim", ok: true, reason: "No claim configured." });
  } else {
    const actual = payload[identity.claim.name];
    checks.push(
      actual === identity.claim.value
        ? { name: "claim", ok: true }
        : {
            name: "claim",
            ok: false,
            reason: `The token's ${quote(identity.claim.name)} is ${quote(actual)}; expected ${quote(identity.claim.value)}.`,
          },
    );
  }
  return checks;
}

/**
 * Checks a token against an identity, one named check at a time, so the customer sees what to
 * fix. `ok` also requires the edge's own verifier to accept the token: what passes here is
 * exactly what the gateway will let through.
 */
export async function checkToken(
  token: string,
  identity: IdentityConfig,
  keys: JSONWebKeySet,
  counters: Counters,
  now = Date.now(),
): Promise<TokenReport> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: JWTPayload;
  try {
    if (token.length > MAX_TOKEN_LENGTH) throw new Error("too long");
    header = decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    const reason =
      token.length > MAX_TOKEN_LENGTH
        ? `The token is longer than ${MAX_TOKEN_LENGTH} bytes.`
        : "This is not a signed JWT (three base64url parts separated by dots).";
    return { ok: false, checks: [{ name: "format", ok: false, reason }], claims: null };
  }

  const algorithms = identity.algorithms ?? [...DEFAULT_ALGORITHMS];
  const checks: Check[] = [{ name: "format", ok: true }];
  const algOk = typeof header.alg === "string" && algorithms.includes(header.alg);
  checks.push(
    algOk
      ? { name: "algorithm", ok: true, reason: `${header.alg}.` }
      : {
          name: "algorithm",
          ok: false,
          reason: `${quote(header.alg)} is not accepted; the gateway accepts ${algorithms.join(", ")} (asymmetric only).`,
        },
  );
  checks.push(await signatureCheck(token, header.kid, keys, algorithms));
  checks.push(...claimChecks(payload, identity, now));

  let ok = checks.every((c) => c.ok);
  if (ok) {
    try {
      await verifyToken(token, identity, createLocalJWKSet(keys), counters);
    } catch (err) {
      ok = false;
      checks.push({ name: "gateway", ok: false, reason: err instanceof TokenRejected ? err.message : "Refused." });
    }
  }
  return { ok, checks, claims: payload };
}
