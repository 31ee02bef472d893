import { gatewayFetch } from "./gateway";

export const ADMIN_TOKEN = "test-admin-token-a";
export const ADMIN_TOKEN_NEXT = "test-admin-token-b";

export interface AdminResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/** Calls the admin API of the gateway under test. */
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
