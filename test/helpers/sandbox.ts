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
    deliveryDelayMs?: number;
    webhookRetryDelaysMs?: number[];
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
  /** A sender as the sandbox holds it (a fixture, not the Zavu API): webhook secret and owning account included. */
  sender: (id: string) => control<SandboxSender>("GET", `/senders/${id}`),
  /** A contact writes to a sender: conversation.new (first time) and message.inbound, to its webhook. */
  inbound: (body: { senderId: string; from: string; text: string }) =>
    control<{ messageId: string; events: string[] }>("POST", "/inbound", body),
  /** Every event queued for a webhook URL, newest first. */
  deliveries: async (senderId?: string) =>
    (
      await control<{ items: WebhookDelivery[] }>(
        "GET",
        `/webhook-deliveries${senderId ? `?senderId=${senderId}` : ""}`,
      )
    ).items,
};

export interface SandboxSender {
  id: string;
  name: string;
  phoneNumber: string;
  isDefault: boolean;
  accountId: string;
  webhook?: { url: string; events: string[]; active: boolean; signatureVersion: "v1" | "v1+v2" | "v2"; secret: string };
}

export interface WebhookDelivery {
  url: string;
  eventId: string;
  type: string;
  senderId: string;
  /** status null: no answer (connection error or timeout); at: ISO time. */
  attempts: Array<{ status: number | null; at: string }>;
  pending: boolean;
  body: string;
  headers: Record<string, string>;
}

/** The sandbox's own webhook receiver, as a sender's webhookUrl. */
export const hookUrl = (name: string, query = "") => `https://zavu.sandbox/__sandbox/hooks/${name}${query}`;

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** The official SDK pointed at the sandbox. */
export function zavu(apiKey: string): Zavudev {
  return new Zavudev({
    apiKey,
    baseURL: SANDBOX_URL,
    maxRetries: 0,
    fetch: (input, init) => env.SANDBOX.fetch(new Request(input as RequestInfo, init as RequestInit)),
  });
}
