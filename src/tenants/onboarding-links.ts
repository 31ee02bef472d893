import { apiError } from "../errors";
import { bytesToBase64Url, sha256Base64Url } from "../lib/encoding";
import { sortableId } from "../lib/ids";
import { identifierProblem, requireName } from "../lib/visible-text";
import { type LinkRecord, LinkRepo, type LinkStatus } from "../storage/onboarding-links";
import { audit, type TenantContext } from "./context";
import { loadTenant } from "./lifecycle";

export const DEFAULT_LINK_HOURS = 72;
export const MAX_LINK_HOURS = 720;
/** 256 random bits, base64url: the whole secret of a link's URL. */
export const LINK_SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface CreateLinkInput {
  name?: string;
  externalId?: string;
  creditLimit?: number;
  metadata?: Record<string, unknown>;
  tenantId?: string;
  expiresInHours?: number;
}

export function hashLinkSecret(secret: string): Promise<string> {
  return sha256Base64Url(secret);
}

/**
 * A link for a new customer (prefilled with what the reseller already knows), or, with
 * `tenantId`, for an existing tenant to replace its identity configuration.
 */
export async function createOnboardingLink(
  deps: TenantContext,
  input: CreateLinkInput,
  origin: string,
): Promise<{ link: LinkRecord; url: string }> {
  if (input.name !== undefined) requireName(input.name);
  const idProblem = input.externalId === undefined ? null : identifierProblem(input.externalId);
  if (idProblem)
    throw apiError("invalid_request", `externalId ${idProblem}.`, [{ path: "externalId", message: idProblem }]);
  const repo = new LinkRepo(deps.db, deps.counters);
  if (input.tenantId) {
    const extra = (["name", "externalId", "creditLimit", "metadata"] as const).filter((k) => input[k] !== undefined);
    if (extra.length > 0) {
      throw apiError(
        "invalid_request",
        `A setup link for an existing tenant takes only tenantId and expiresInHours; change ${extra.join(", ")} on the tenant.`,
      );
    }
    const tenant = await loadTenant(deps, input.tenantId);
    if (tenant.status === "deactivated" || tenant.status === "provisioning") {
      throw apiError("invalid_state", `This tenant is ${tenant.status}; it cannot take a setup link.`);
    }
  } else if (input.externalId && (await deps.repo.externalIdTaken(input.externalId))) {
    throw apiError("conflict", "This externalId belongs to another tenant.");
  }

  const secret = bytesToBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const now = Date.now();
  const id = sortableId("lnk", now);
  const expiresAt = now + (input.expiresInHours ?? DEFAULT_LINK_HOURS) * 3600_000;
  await deps.repo.batch([
    repo.insert({
      id,
      secretHash: await hashLinkSecret(secret),
      purpose: input.tenantId ? "identity" : "create",
      tenantId: input.tenantId ?? null,
      name: input.name ?? null,
      externalId: input.externalId ?? null,
      creditLimit: input.creditLimit || null,
      metadata: input.metadata ?? null,
      createdBy: deps.actor,
      createdAt: now,
      expiresAt,
    }),
    audit(deps, "onboarding_link.create", input.tenantId ?? null, {
      linkId: id,
      purpose: input.tenantId ? "identity" : "create",
      expiresAt: new Date(expiresAt).toISOString(),
    }),
  ]);
  const link = (await repo.get(id))!;
  return { link, url: `${origin}/onboard/${secret}` };
}

export async function listOnboardingLinks(
  deps: TenantContext,
  opts: { status?: LinkStatus; limit: number; before?: string },
): Promise<{ items: LinkRecord[]; next: string | null }> {
  const rows = await new LinkRepo(deps.db, deps.counters).list({ ...opts, limit: opts.limit + 1 });
  const items = rows.slice(0, opts.limit);
  return { items, next: rows.length > opts.limit ? items[items.length - 1]!.id : null };
}

/** Revokes a pending (or expired) link. A revoked one stays revoked; a used one cannot be revoked. */
export async function revokeOnboardingLink(deps: TenantContext, id: string): Promise<LinkRecord> {
  const repo = new LinkRepo(deps.db, deps.counters);
  const link = await repo.get(id);
  if (!link) throw apiError("not_found", "Onboarding link not found.");
  if (link.status === "revoked") return link;
  if (link.status === "completed") throw apiError("invalid_state", "This link has already been used.");
  const now = Date.now();
  if (link.claimedUntil > now) {
    throw apiError("invalid_state", "The customer is activating with this link right now; try again in a minute.");
  }
  await deps.repo.batch([
    repo.revokeStatement(id, now),
    audit(deps, "onboarding_link.revoke", link.tenantId, { linkId: id }),
  ]);
  const after = (await repo.get(id))!;
  if (after.status !== "revoked") throw apiError("invalid_state", `This link is ${after.status}.`);
  return after;
}
