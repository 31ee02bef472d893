/**
 * A typed client for the Zavu reseller gateway's admin API (`/admin/v1`), on openapi-fetch. Every path,
 * parameter, body and answer is typed from the gateway's OpenAPI document (`./schema.d.ts`, generated
 * by `npm run client:generate` at the repository's root).
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema";

export type { components, paths } from "./schema";

type Schemas = components["schemas"];
export type Tenant = Schemas["Tenant"];
export type CreateTenant = Schemas["CreateTenant"];
export type ImportTenant = Schemas["ImportTenant"];
export type UpdateTenant = Schemas["UpdateTenant"];
export type IdentityInput = Schemas["IdentityInput"];
export type PlanInput = Schemas["PlanInput"];
export type OnboardingLink = Schemas["OnboardingLink"];
export type TenantUsage = Schemas["TenantUsage"];
export type MonthlyUsage = Schemas["MonthlyUsage"];
export type IsolateStats = Schemas["IsolateStats"];
/** Every error answer's body: `{code, message, details?}` (the codes are in the gateway's docs/errors.md). */
export type ErrorBody = Schemas["Error"];

export interface AdminClientOptions {
  /** The gateway's URL, as customers' SDKs use it (e.g. `https://gateway.example.com`): the admin API is under `/admin/v1`. */
  baseUrl: string;
  /** The reseller's `ADMIN_TOKEN`. */
  token: string;
  /** Who acts, for the gateway's audit log (`X-Admin-Actor`), e.g. `"crm-sync"`. */
  actor?: string;
  /** A fetch of your own (a proxy, retries, tests); by default the global `fetch`, looked up at each call. */
  fetch?: (request: Request) => Promise<Response>;
}

/** Answers are typed as their JSON body; the monthly usage's CSV is read with `parseAs: "text"` (a string). */
export type AdminClient = Client<paths, "application/json">;

/**
 * The admin API, typed: `client.GET("/tenants/{id}", { params: { path: { id } } })` answers
 * `{ data, error, response }`, where `data` is the success body's type and `error` the error body's.
 * `unwrap()` turns that into the data or a thrown `AdminApiError`.
 */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
  if (options.actor) headers["x-admin-actor"] = options.actor;
  return createClient<paths, "application/json">({
    baseUrl: `${options.baseUrl.replace(/\/+$/, "")}/admin/v1`,
    headers,
    fetch: options.fetch ?? ((request) => globalThis.fetch(request)),
  });
}

/** An error answer of the admin API: its HTTP status and its `{code, message, details?}`. */
export class AdminApiError extends Error {
  override readonly name = "AdminApiError";
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * The data of a successful answer, or an `AdminApiError` thrown for an error answer:
 * `const { tenant } = await unwrap(admin.POST("/tenants", { body }))`.
 */
export async function unwrap<R extends { data?: unknown; error?: unknown; response: Response }>(
  pending: Promise<R>,
): Promise<NonNullable<R["data"]>> {
  const { data, error, response } = await pending;
  if (!response.ok || error !== undefined) {
    const body: Partial<ErrorBody> = typeof error === "object" && error !== null ? error : {};
    throw new AdminApiError(
      response.status,
      typeof body.code === "string" ? body.code : `http_${response.status}`,
      typeof body.message === "string" ? body.message : typeof error === "string" ? error : response.statusText,
      body.details,
    );
  }
  return data as NonNullable<R["data"]>;
}
