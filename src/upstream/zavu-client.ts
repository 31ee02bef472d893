import type { Counters } from "../lib/counters";
import { UpstreamError, upstreamFetch } from "./upstream-fetch";

export { UpstreamError } from "./upstream-fetch";

export interface SubAccount {
  id: string;
  name: string;
  status: "active" | "inactive";
  totalSpent: number;
  creditLimit?: number | null;
  externalId?: string | null;
  metadata?: Record<string, unknown> | null;
  apiKey?: string;
  createdAt: string;
}

export interface Balance {
  balance: number;
  currency: string;
  creditLimit?: number | null;
  totalSpent?: number | null;
  isSubAccount?: boolean;
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  environment: "live" | "test";
  keyPrefix: string;
  createdAt: number;
  lastUsedAt?: number | null;
  revokedAt?: number | null;
}

/** Sends one JSON request to Zavu and returns the parsed body (undefined for an empty one). */
export async function zavuCall<T>(
  base: string,
  apiKey: string,
  method: string,
  path: string,
  opts: { body?: unknown; timeoutMs: number; counters: Counters; requestId?: string },
): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}`, accept: "application/json" };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.requestId) headers["x-request-id"] = opts.requestId;
  const res = await upstreamFetch(
    `${base}${path}`,
    { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) },
    opts,
  );
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const body = (parsed ?? {}) as { code?: unknown; message?: unknown };
    throw new UpstreamError(
      "http",
      res.status,
      typeof body.code === "string" ? body.code : `http_${res.status}`,
      typeof body.message === "string" ? body.message : `Zavu answered HTTP ${res.status}.`,
    );
  }
  return parsed as T;
}

/** The calls the gateway makes with the reseller's main-account key. */
export class ZavuMainAccount {
  constructor(
    private readonly base: string,
    private readonly mainKey: string,
    private readonly timeoutMs: number,
    private readonly counters: Counters,
    private readonly requestId?: string,
  ) {}

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return zavuCall<T>(this.base, this.mainKey, method, path, {
      body,
      timeoutMs: this.timeoutMs,
      counters: this.counters,
      requestId: this.requestId,
    });
  }

  createSubAccount(body: {
    name: string;
    externalId?: string;
    creditLimit?: number;
    metadata?: Record<string, unknown>;
  }) {
    return this.call<{ subAccount: SubAccount }>("POST", "/v1/sub-accounts", body);
  }

  getSubAccount(id: string) {
    return this.call<{ subAccount: SubAccount }>("GET", `/v1/sub-accounts/${encodeURIComponent(id)}`);
  }

  listSubAccounts(cursor?: string, limit = 100) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set("cursor", cursor);
    return this.call<{ items: SubAccount[]; nextCursor?: string | null }>("GET", `/v1/sub-accounts?${q}`);
  }

  /** Pages through every sub-account to find the one with this externalId (Zavu has no filter). */
  async findSubAccountByExternalId(externalId: string): Promise<SubAccount | undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.listSubAccounts(cursor);
      const hit = page.items.find((s) => s.externalId === externalId);
      if (hit) return hit;
      cursor = page.nextCursor || undefined;
    } while (cursor);
    return undefined;
  }

  updateSubAccount(id: string, body: Record<string, unknown>) {
    return this.call<{ subAccount: SubAccount }>("PATCH", `/v1/sub-accounts/${encodeURIComponent(id)}`, body);
  }

  deactivateSubAccount(id: string) {
    return this.call<{ keysRevoked: number; message: string }>("DELETE", `/v1/sub-accounts/${encodeURIComponent(id)}`);
  }

  /** The team's balance (cents), as the main account sees it. */
  teamBalance() {
    return this.call<{ balance: number; currency: string }>("GET", "/v1/balance");
  }

  getBalance(id: string) {
    return this.call<Balance>("GET", `/v1/sub-accounts/${encodeURIComponent(id)}/balance`);
  }

  listApiKeys(id: string) {
    return this.call<{ items: ApiKeyInfo[] }>("GET", `/v1/sub-accounts/${encodeURIComponent(id)}/api-keys`);
  }

  createApiKey(id: string, name: string) {
    return this.call<{ apiKey: { id: string; name: string; environment: string; key: string } }>(
      "POST",
      `/v1/sub-accounts/${encodeURIComponent(id)}/api-keys`,
      { name, environment: "live" },
    );
  }

  revokeApiKey(id: string, keyId: string) {
    return this.call<void>(
      "DELETE",
      `/v1/sub-accounts/${encodeURIComponent(id)}/api-keys/${encodeURIComponent(keyId)}`,
    );
  }
}
