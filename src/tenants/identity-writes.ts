import { IDENTITY_QUARANTINE_MS } from "../control/events";
import { apiError } from "../errors";
import { type IdentityConfig, writeRefusal } from "../storage/tenants";
import type { TenantContext } from "./context";

/**
 * Runs a D1 write that gives `tenantId` an identity, mapping the database's refusals to answers.
 * When another tenant released that identity moments ago (it is held until no isolate can still
 * route its tokens to the old owner), it waits the hold out once (never longer than the quarantine)
 * and tries again; a longer hold (a release not yet published) answers 409 identity_cooling_down.
 */
export async function assigningIdentity<T>(
  deps: TenantContext,
  identity: IdentityConfig,
  tenantId: string,
  write: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      const refusal = writeRefusal(err);
      if (refusal === "identity_quarantined") {
        const wait = (await deps.repo.identityHeldUntil(identity, tenantId, Date.now())) - Date.now();
        if (attempt === 0 && wait <= IDENTITY_QUARANTINE_MS + 1_000) {
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait) + 50));
          continue;
        }
        throw apiError("identity_cooling_down", undefined, { retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) });
      }
      if (refusal === "identity_conflict") {
        throw apiError(
          "conflict",
          "Tenants of this issuer are told apart by another claim name (or by none); use the same one.",
        );
      }
      if (refusal === "unique") {
        throw apiError("conflict", "This identity, externalId or sub-account is already registered to another tenant.");
      }
      throw err;
    }
  }
}
