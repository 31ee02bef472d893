import type { LinkRecord } from "../storage/onboarding-links";
import type { TenantRecord } from "../storage/tenants";

/** The API shape of a tenant. Ciphertext, key ids and anything secret stay out. */
export function presentTenant(t: TenantRecord, totalSpent: number | null) {
  return {
    id: t.id,
    name: t.name,
    externalId: t.externalId,
    status: t.status,
    creditLimit: t.creditLimit,
    totalSpent,
    metadata: t.metadata,
    subAccountId: t.subAccountId,
    identity: t.identity,
    plan: t.effectivePlan ?? { requestsPerSecond: null, sendsPerMinute: null, dailySends: null, ...t.plan },
    keyPrefix: t.keyPrefix,
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
  };
}

/** The API shape of a link. Its URL (the secret) exists only in the answer that created it. */
export function presentLink(link: LinkRecord, url?: string) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: link.id,
    ...(url ? { url } : {}),
    purpose: link.purpose,
    status: link.status,
    tenantId: link.tenantId,
    name: link.name,
    externalId: link.externalId,
    creditLimit: link.creditLimit,
    metadata: link.metadata,
    createdBy: link.createdBy,
    createdAt: new Date(link.createdAt).toISOString(),
    expiresAt: new Date(link.expiresAt).toISOString(),
    completedAt: iso(link.completedAt),
    revokedAt: iso(link.revokedAt),
  };
}

export function encodeCursor(value: string | number): string {
  return btoa(String(value)).replace(/=+$/, "");
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  try {
    return atob(cursor);
  } catch {
    return undefined;
  }
}
