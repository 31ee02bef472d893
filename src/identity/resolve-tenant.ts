import type { JWTPayload, JWTVerifyGetKey } from "jose";
import { BoundedCache } from "../lib/bounded-cache";
import { type EdgeTenant, findTenantsForToken } from "../storage/tenants";
import { inlineKeySet, type RemoteDeps, remoteKeySet } from "./key-sets";

/** A tenant as the edge keeps it in isolate memory between D1 reads. */
export interface ResolvedTenant extends EdgeTenant {
  cacheKey: string;
  getKey: JWTVerifyGetKey;
  /** The decrypted sub-account key, opened on first use. */
  apiKey?: Promise<string>;
}

/**
 * How long the isolate trusts a tenant row before reading D1 again. Status and limits reach
 * other isolates sooner, through KV and the status epoch; a rotated key at once (Zavu's 401
 * makes the edge reload); a replaced identity within this time.
 */
export const TENANT_TTL_MS = 5 * 60_000;
/** Unknown issuers and claim values are remembered briefly so garbage tokens cannot hammer D1. */
const NEGATIVE_TTL_MS = 10_000;

/** issuer -> claim name ('' when the issuer's tenants use none); null = issuer unknown. */
const issuerClaims = new BoundedCache<string, string | null>(10_000, TENANT_TTL_MS);
/** issuer + claim value -> tenant (or null when none matches). */
const tenants = new BoundedCache<string, ResolvedTenant | null>(10_000, TENANT_TTL_MS);

export function tenantCacheStats() {
  return {
    issuers: { size: issuerClaims.size, max: issuerClaims.maxEntries },
    tenants: { size: tenants.size, max: tenants.maxEntries },
  };
}

/** Drops what this isolate remembers of a tenant, so the next request reads D1. */
export function forgetTenant(tenantId: string, issuer?: string): void {
  tenants.deleteWhere((t) => t?.id === tenantId);
  if (issuer) issuerClaims.delete(issuer);
}

export function forgetIssuer(issuer: string): void {
  issuerClaims.delete(issuer);
  tenants.deleteWhere((_t, key) => key.startsWith(`${issuer}\n`));
}

function claimValue(payload: JWTPayload, name: string): string {
  if (!name) return "";
  const v = payload[name];
  return typeof v === "string" ? v : "";
}

const keyFor = (issuer: string, payload: JWTPayload, claimName: string) =>
  `${issuer}\n${claimValue(payload, claimName)}`;

export function getCachedTenant(cacheKey: string): ResolvedTenant | null | undefined {
  return tenants.get(cacheKey);
}

/**
 * Finds the tenant an (unverified) token claims to belong to. The caller must verify the
 * token against the returned tenant's identity before trusting anything in it.
 */
export async function resolveTenant(
  db: D1Database,
  issuer: string,
  payload: JWTPayload,
  deps: RemoteDeps,
): Promise<ResolvedTenant | null> {
  const claimName = issuerClaims.get(issuer);
  if (claimName === null) return null;
  if (claimName !== undefined) {
    const hit = tenants.get(keyFor(issuer, payload, claimName));
    if (hit !== undefined) return hit;
  }
  const rows = await findTenantsForToken(db, issuer, JSON.stringify(payload));
  if (rows.length === 0) {
    issuerClaims.set(issuer, null, NEGATIVE_TTL_MS);
    return null;
  }
  const name = rows[0]!.identity.claim?.name ?? "";
  issuerClaims.set(issuer, name);
  const cacheKey = keyFor(issuer, payload, name);
  const matches = rows.filter((r): r is EdgeTenant => r.id !== null);
  const matched = matches.length === 1 ? matches[0]! : null; // two would be ambiguous: refuse both
  if (!matched) {
    tenants.set(cacheKey, null, NEGATIVE_TTL_MS);
    return null;
  }
  const { identity } = matched;
  const tenant: ResolvedTenant = {
    ...matched,
    cacheKey,
    getKey: identity.jwks ? inlineKeySet(identity.jwks) : remoteKeySet(identity.jwksUri!, deps),
  };
  tenants.set(cacheKey, tenant);
  return tenant;
}
