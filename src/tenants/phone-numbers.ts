import { apiError } from "../errors";
import { UpstreamError } from "../upstream/zavu-client";
import { asTenant, tenantKey } from "./as-tenant";
import { audit, type TenantContext } from "./context";
import { loadTenant, upstreamFailure } from "./lifecycle";

/**
 * A tenant's phone numbers, managed by the reseller: listed, bought and released with the tenant's own
 * sub-account key, so a purchase is charged to the sub-account (its totalSpent). Customers may look their
 * numbers up through the edge but never buy or release one there: that costs money outside the credit limit.
 */
export interface OwnedPhoneNumber {
  id: string;
  phoneNumber: string;
  status?: string;
  capabilities?: string[];
  name?: string;
  senderId?: string;
  createdAt?: string;
  monthlyCost?: number;
}

/** The fields the gateway shows of Zavu's OwnedPhoneNumber (its pricing reduced to the monthly cost). */
function present(n: Record<string, unknown>): OwnedPhoneNumber {
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const pricing = n.pricing as { monthlyCost?: unknown; monthlyPrice?: unknown } | undefined;
  const monthly = pricing?.monthlyCost ?? pricing?.monthlyPrice;
  const out: OwnedPhoneNumber = { id: String(n.id), phoneNumber: String(n.phoneNumber) };
  if (str(n.status)) out.status = str(n.status);
  if (Array.isArray(n.capabilities))
    out.capabilities = n.capabilities.filter((c): c is string => typeof c === "string");
  if (str(n.name)) out.name = str(n.name);
  if (str(n.senderId)) out.senderId = str(n.senderId);
  if (str(n.createdAt)) out.createdAt = str(n.createdAt);
  if (typeof monthly === "number") out.monthlyCost = monthly;
  return out;
}

export const PHONE_NUMBER = /^\+[1-9]\d{6,14}$/;
export const PHONE_NUMBER_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The numbers the tenant's sub-account owns (one page of up to 100; `cursor` for the next). */
export async function listPhoneNumbers(deps: TenantContext, id: string, cursor?: string) {
  const tenant = await loadTenant(deps, id);
  const key = await tenantKey(deps, tenant);
  const q = new URLSearchParams({ limit: "100" });
  if (cursor) q.set("cursor", cursor);
  const page = await asTenant<{ items?: Record<string, unknown>[]; nextCursor?: string | null }>(
    deps,
    key,
    "GET",
    `/v1/phone-numbers?${q}`,
  ).catch(upstreamFailure);
  return { items: (page.items ?? []).map(present), nextCursor: page.nextCursor ?? null };
}

/** Buys a number for the tenant, charged to its sub-account; audited. */
export async function purchasePhoneNumber(
  deps: TenantContext,
  id: string,
  input: { phoneNumber: string; name?: string },
): Promise<OwnedPhoneNumber> {
  if (!PHONE_NUMBER.test(input.phoneNumber)) {
    throw apiError("invalid_request", "phoneNumber must be in E.164 format, like +15550100001.");
  }
  const tenant = await loadTenant(deps, id);
  const key = await tenantKey(deps, tenant);
  const body = input.name === undefined ? { phoneNumber: input.phoneNumber } : input;
  const bought = await asTenant<{ phoneNumber: Record<string, unknown> }>(
    deps,
    key,
    "POST",
    "/v1/phone-numbers",
    body,
  ).catch((err) => {
    // Zavu's 404 here means the number is not for sale.
    if (err instanceof UpstreamError && err.status === 404) {
      throw apiError("invalid_request", `Zavu refused: ${err.message}`, { upstreamCode: err.code });
    }
    return refusal(err);
  });
  const phoneNumber = present(bought.phoneNumber);
  await deps.repo.batch([
    audit(deps, "tenant.phone_number.purchase", id, {
      phoneNumberId: phoneNumber.id,
      phoneNumber: phoneNumber.phoneNumber,
      subAccountId: tenant.subAccountId,
    }),
  ]);
  return phoneNumber;
}

/** Releases one of the tenant's numbers; audited. */
export async function releasePhoneNumber(deps: TenantContext, id: string, numberId: string): Promise<void> {
  if (!PHONE_NUMBER_ID.test(numberId)) throw apiError("not_found", "Phone number not found.");
  const tenant = await loadTenant(deps, id);
  const key = await tenantKey(deps, tenant);
  await asTenant<void>(deps, key, "DELETE", `/v1/phone-numbers/${encodeURIComponent(numberId)}`).catch(refusal);
  await deps.repo.batch([
    audit(deps, "tenant.phone_number.release", id, { phoneNumberId: numberId, subAccountId: tenant.subAccountId }),
  ]);
}

/** Zavu's 400 (a number not available, bad input) and 404 are the reseller's to fix: said as such. */
function refusal(err: unknown): never {
  if (err instanceof UpstreamError && err.kind === "http") {
    if (err.status === 404) throw apiError("not_found", "Phone number not found.");
    // The sub-account's credit limit or the team balance cannot cover the number: Zavu's code, as the gateway's.
    if (err.status === 402 && (err.code === "credit_limit_reached" || err.code === "insufficient_balance")) {
      throw apiError(err.code, `Zavu refused: ${err.message}`);
    }
    if (err.status === 400 || err.status === 409 || err.status === 422) {
      throw apiError("invalid_request", `Zavu refused: ${err.message}`, { upstreamCode: err.code });
    }
  }
  return upstreamFailure(err);
}
