import { env } from "cloudflare:workers";
import Zavudev from "@zavudev/sdk";

export const SANDBOX_URL = "http://zavu.sandbox";
export const MAIN_KEY = "zv_live_sandbox_main";

import type { LoggedRequest } from "../../sandbox/src/store";

async function control<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await env.SANDBOX.fetch(`${SANDBOX_URL}/__sandbox${path}`, {
    method,
    headers: body === undefined ? undefined : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`sandbox control ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<T>;
}

/** The sandbox's control API, through its service binding. */
export const sandbox = {
  reset: () => control("POST", "/reset"),
  team: () =>
    control<{
      balance: number;
      prices: Record<string, number>;
      enforceLimits: boolean;
      costAtAccept: boolean;
      dailyLimit: number | null;
      a2pLimit: number | null;
      today: { date: string; sends: number; a2p: number };
    }>("GET", "/team"),
  setTeam: (body: {
    balance?: number;
    prices?: Record<string, number>;
    enforceLimits?: boolean;
    costAtAccept?: boolean;
    dailyLimit?: number | null;
    a2pLimit?: number | null;
  }) => control("PATCH", "/team", body),
  /** Sends and cents the sandbox charged, per account (sub-account id, or "main") and channel. */
  usage: async (account?: string) =>
    (
      await control<{ items: Array<{ account: string; channel: string; sends: number; cents: number }> }>(
        "GET",
        `/usage${account ? `?account=${account}` : ""}`,
      )
    ).items,
  /** What the sandbox's webhook receiver got (oldest first). */
  hooks: async (name?: string) =>
    (
      await control<{
        items: Array<{ name: string; status: number; headers: Record<string, string>; body: string; at: number }>;
      }>("GET", `/hooks${name ? `?name=${name}` : ""}`)
    ).items,
  setTotalSpent: (subAccountId: string, totalSpent: number) =>
    control("PATCH", `/sub-accounts/${subAccountId}`, { totalSpent }),
  fault: (rule: {
    path: string;
    method?: string;
    status?: number;
    code?: string;
    message?: string;
    latencyMs?: number;
    count?: number;
    rate?: number;
    afterEffect?: boolean;
  }) => control("POST", "/faults", rule),
  clearFaults: () => control("DELETE", "/faults"),
  /** Newest first. */
  requests: async () => (await control<{ items: LoggedRequest[] }>("GET", "/requests?limit=2000")).items,
  clearRequests: () => control("DELETE", "/requests"),
};

/** The official SDK pointed at the sandbox. */
export function zavu(apiKey: string): Zavudev {
  return new Zavudev({
    apiKey,
    baseURL: SANDBOX_URL,
    maxRetries: 0,
    fetch: (input, init) => env.SANDBOX.fetch(new Request(input as RequestInfo, init as RequestInit)),
  });
}
