import type { Env } from "../env";
import { ApiError, apiError } from "../errors";
import { DiscoveryError, discoverIssuer, type IssuerKeys, loadIssuerKeys } from "../identity/discovery";
import { type CheckedIdentity, checkIdentity, type IdentityInput } from "../identity/register";
import { requireName } from "../lib/visible-text";
import type { IsolateState } from "../state";
import { type LinkRecord, LinkRepo } from "../storage/onboarding-links";
import { type IdentityConfig, type TenantRecord, writeRefusal } from "../storage/tenants";
import { audit, type TenantContext, tenantContext } from "../tenants/context";
import { loadTenant, replaceIdentity } from "../tenants/lifecycle";
import { createTenant } from "../tenants/onboarding";
import { hashLinkSecret, LINK_SECRET } from "../tenants/onboarding-links";
import { provision } from "../tenants/provisioning";
import { checkToken, type TokenReport } from "./checks";

/** Failed discoveries, tests and activations per link and window; then 429 until the window ends. */
export const ATTEMPT_LIMIT = 20;
export const ATTEMPT_WINDOW_MS = 3600_000;
/** How long an activation holds its link; a crashed one frees it after this. */
const CLAIM_LEASE_MS = 120_000;

/** A link opened by its secret, with what the portal acts as and on. */
export interface OpenLink {
  link: LinkRecord;
  deps: TenantContext;
  repo: LinkRepo;
  /** identity links: the tenant whose identity it replaces. */
  tenant: TenantRecord | null;
}

export function linkGone(link: LinkRecord): ApiError | null {
  if (link.status === "expired") return apiError("link_expired");
  if (link.status === "completed") return apiError("link_used");
  if (link.status === "revoked") return apiError("link_revoked");
  return null;
}

/** Finds the link a secret opens. Unknown secrets all look alike: 404, whatever was wrong. */
export async function openLink(env: Env, state: IsolateState, requestId: string, secret: string): Promise<OpenLink> {
  const repo = new LinkRepo(env.DB, state.counters);
  const link = LINK_SECRET.test(secret) ? await repo.bySecretHash(await hashLinkSecret(secret)) : null;
  if (!link) throw apiError("not_found", "This onboarding link is not valid. Check that you copied all of it.");
  const deps = tenantContext(env, state, requestId, `portal:${link.id}`);
  const tenant = link.tenantId ? await deps.repo.get(link.tenantId) : null;
  return { link, deps, repo, tenant };
}

/** The link must still be usable: 410 with why not. */
export function requirePending(open: OpenLink): void {
  const gone = linkGone(open.link);
  if (gone) throw gone;
}

/**
 * Runs one attempt under the link's limit. It counts before it runs (so parallel attempts
 * cannot overshoot the limit across isolates) and is refunded when it succeeds, or when it
 * failed on our side (5xx), not the customer's.
 */
async function attempt<T>(open: OpenLink, run: () => Promise<{ value: T; ok: boolean }>): Promise<T> {
  const reserved = await open.repo.reserveAttempt(open.link.id, ATTEMPT_LIMIT, ATTEMPT_WINDOW_MS);
  if (!reserved.allowed) {
    const retryAfterSeconds = Math.ceil(reserved.retryAfterMs / 1000);
    throw apiError(
      "rate_limited",
      `Too many failed attempts with this link; try again in ${Math.ceil(retryAfterSeconds / 60)} min.`,
      { retryAfterSeconds },
    );
  }
  try {
    const { value, ok } = await run();
    if (ok) await open.repo.refundAttempt(open.link.id, reserved.window);
    return value;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status >= 500) await open.repo.refundAttempt(open.link.id, reserved.window);
    throw err;
  }
}

const invalid = (err: DiscoveryError) =>
  apiError("invalid_request", err.message, err.suggestedIssuer ? { suggestedIssuer: err.suggestedIssuer } : undefined);

/** Step 2: the issuer's keys, through OpenID discovery or from a JWKS URL the provider is known to use. */
export async function discover(open: OpenLink, input: { issuer: string; jwksUri?: string }) {
  requirePending(open);
  return attempt(open, async () => {
    const allowHttp = open.deps.allowHttpJwks;
    try {
      const found = input.jwksUri
        ? { issuer: input.issuer, jwksUri: input.jwksUri, ...(await loadIssuerKeys(input.jwksUri, { allowHttp })) }
        : await discoverIssuer(input.issuer, { allowHttp });
      await open.deps.repo.batch([
        audit(open.deps, "onboarding_link.discover", open.link.tenantId, {
          linkId: open.link.id,
          issuer: input.issuer,
          ok: true,
        }),
      ]);
      const { jwks: _keysThemselves, ...shown } = found;
      return { value: shown, ok: true };
    } catch (err) {
      await open.deps.repo.batch([
        audit(open.deps, "onboarding_link.discover", open.link.tenantId, {
          linkId: open.link.id,
          issuer: input.issuer,
          ok: false,
        }),
      ]);
      throw err instanceof DiscoveryError ? invalid(err) : err;
    }
  });
}

async function keysFor(identity: IdentityConfig, allowHttp: boolean): Promise<IssuerKeys["jwks"]> {
  if (identity.jwks) return identity.jwks;
  try {
    return (await loadIssuerKeys(identity.jwksUri!, { allowHttp })).jwks;
  } catch (err) {
    throw err instanceof DiscoveryError ? invalid(err) : err;
  }
}

/**
 * Checks the identity the customer typed (its keys fetched once), then a token against it. A test
 * (`reportSharedIssuer`) shows a shared issuer that lacks an audience or a pinning claim as a failed
 * check; an activation refuses it (invalid_identity). The activation reuses the checked identity.
 */
async function runTest(
  open: OpenLink,
  identityInput: IdentityInput,
  token: string,
  opts: { reportSharedIssuer?: boolean } = {},
): Promise<{ report: TokenReport; checked: CheckedIdentity }> {
  const checked = await checkIdentity(identityInput, { allowHttpJwks: open.deps.allowHttpJwks, ...opts });
  const { identity } = checked;
  const report = await checkToken(token, identity, checked.keys, open.deps.counters);
  await open.deps.repo.batch([
    audit(open.deps, "onboarding_link.test", open.link.tenantId, {
      linkId: open.link.id,
      issuer: identity.issuer,
      ok: report.ok,
      failed: report.checks.filter((c) => !c.ok).map((c) => c.name),
    }),
  ]);
  return { report, checked };
}

/** Step 4: does a token from the customer's provider pass? Nothing is stored. */
export async function testConnection(open: OpenLink, input: { identity: IdentityInput; token: string }) {
  requirePending(open);
  return attempt(open, async () => {
    const { report } = await runTest(open, input.identity, input.token, { reportSharedIssuer: true });
    return { value: report, ok: report.ok };
  });
}

function failedChecks(report: TokenReport): ApiError {
  const first = report.checks.find((c) => !c.ok);
  return apiError(
    "invalid_request",
    `Activation needs a token that passes every check${first ? `; ${first.name}: ${first.reason}` : ""}.`,
    { checks: report.checks },
  );
}

/** Maps a failed completion statement (the link changed under us) to why the link is gone. */
async function goneAfterRace(open: OpenLink, err: unknown): Promise<never> {
  if (writeRefusal(err) !== "check") throw err;
  const now = await open.repo.get(open.link.id);
  throw (now && linkGone(now)) ?? apiError("link_used");
}

/**
 * Step 5: activation, with a passing token as proof of control. A new customer goes through
 * the same crash-safe provisioning as POST /admin/v1/tenants, and the link is marked used in
 * the very batch that writes the tenant; an existing tenant gets its identity replaced.
 */
export async function complete(open: OpenLink, input: { name?: string; identity: IdentityInput; token: string }) {
  const { link } = open;
  if (link.status === "completed" && link.purpose === "create" && open.tenant?.status === "provisioning") {
    return attempt(open, async () => ({ value: await resume(open, input.token), ok: true }));
  }
  requirePending(open);
  return attempt(open, async () => {
    const { report, checked } = await runTest(open, input.identity, input.token);
    if (!report.ok) throw failedChecks(report);
    const startedAt = Date.now();
    if (!(await open.repo.claim(link.id, CLAIM_LEASE_MS, startedAt))) {
      const now = await open.repo.get(link.id);
      throw (now && linkGone(now)) ?? apiError("conflict", "An activation with this link is already under way.");
    }
    try {
      const tenant =
        link.purpose === "create"
          ? await activateNew(open, { ...input, checked }, startedAt)
          : await reconfigure(open, checked, startedAt);
      return { value: tenant, ok: true };
    } finally {
      await open.repo.release(link.id);
    }
  });
}

async function activateNew(
  open: OpenLink,
  input: { name?: string; identity: IdentityInput; checked: CheckedIdentity },
  startedAt: number,
) {
  const { link, deps } = open;
  const name = input.name?.trim() || link.name;
  if (!name) throw apiError("invalid_request", "name: give your organization's name.");
  requireName(name);
  try {
    return await createTenant(
      deps,
      {
        name,
        externalId: link.externalId ?? undefined,
        creditLimit: link.creditLimit ?? undefined,
        metadata: link.metadata ?? undefined,
        identity: input.identity,
        checked: input.checked,
      },
      (tenantId) => [
        open.repo.completeStatement(link.id, tenantId, startedAt),
        audit(deps, "onboarding_link.complete", tenantId, { linkId: link.id }),
      ],
    );
  } catch (err) {
    if (err instanceof ApiError && err.code === "upstream_error") {
      // Zavu refused the sub-account and no tenant was kept: the link can be used again.
      const after = await open.repo.get(link.id);
      if (after?.tenantId) await open.repo.reopen(link.id, after.tenantId);
    }
    return goneAfterRace(open, err);
  }
}

async function reconfigure(open: OpenLink, checked: CheckedIdentity, startedAt: number) {
  const { link, deps } = open;
  const { identity } = checked;
  const tenant = await replaceIdentity(deps, link.tenantId!, identity);
  try {
    await deps.repo.batch([
      open.repo.completeStatement(link.id, tenant.id, startedAt),
      audit(deps, "onboarding_link.complete", tenant.id, { linkId: link.id, issuer: identity.issuer }),
    ]);
  } catch (err) {
    return goneAfterRace(open, err);
  }
  return tenant;
}

/** A create link whose provisioning was interrupted: the same token proves control again, then it finishes. */
async function resume(open: OpenLink, token: string) {
  const tenant = await loadTenant(open.deps, open.link.tenantId!);
  const identity = tenant.identity!;
  const report = await checkToken(
    token,
    identity,
    await keysFor(identity, open.deps.allowHttpJwks),
    open.deps.counters,
  );
  if (!report.ok) throw failedChecks(report);
  return provision(open.deps, tenant.id);
}
