import {
  type CreateTenant,
  createAdminClient,
  type IdentityInput,
  type Tenant,
  unwrap,
} from "@zavu-gateway/admin-client";
import { GATEWAY_URL, gatewayFetch, gatewayRequest } from "./gateway";
import { TestIdp } from "./idp";

export const ADMIN_TOKEN = "test-admin-token-a";
export const ADMIN_TOKEN_NEXT = "test-admin-token-b";

export interface AdminResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/**
 * The typed admin client (clients/admin) against this file's gateway: what well-formed calls use.
 * `admin()` below sends anything at all, for the tests that probe bad input on purpose.
 */
export function adminClient(opts: { token?: string; actor?: string } = {}) {
  return createAdminClient({
    baseUrl: GATEWAY_URL,
    token: opts.token ?? ADMIN_TOKEN,
    actor: opts.actor,
    fetch: gatewayRequest,
  });
}

/** Calls the admin API of the gateway under test, with any method, path and body. */
export async function admin<T = any>(
  method: string,
  path: string,
  opts: { body?: unknown; token?: string | null; idempotencyKey?: string; headers?: Record<string, string> } = {},
): Promise<AdminResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? ADMIN_TOKEN}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  const res = await gatewayFetch(`/admin/v1${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, body: body as T, headers: res.headers, text };
}

export function tenantBody(identity: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { name: "Acme Corp", identity, ...extra };
}

/** An identity provider of its own for one test (a fresh issuer). */
export function newIdp(alg: "ES256" | "RS256" | "EdDSA" = "ES256") {
  return TestIdp.create(`https://${crypto.randomUUID()}.idp.example`, alg);
}

/** Onboards a tenant through the typed admin client (inline JWKS); returns it and its identity provider. */
export async function createTenant(
  extra: Partial<CreateTenant> = {},
  identityExtra: Partial<IdentityInput> = {},
): Promise<{ tenant: Tenant; idp: TestIdp }> {
  const idp = await newIdp();
  const { tenant } = await unwrap(
    adminClient().POST("/tenants", {
      body: { name: "Acme Corp", identity: { issuer: idp.issuer, jwks: idp.jwks(), ...identityExtra }, ...extra },
    }),
  );
  return { tenant, idp };
}
