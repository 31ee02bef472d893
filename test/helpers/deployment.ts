import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import Zavudev from "@zavudev/sdk";
import type { Env } from "../../src/env";
import { createGateway } from "../../src/index";
import { createIsolateState } from "../../src/state";
import { ADMIN_TOKEN, type AdminResult } from "./admin";
import { clock, GATEWAY_URL } from "./gateway";

/**
 * The gateway Worker as a new version with other vars or secrets runs it (what `wrangler secret
 * put` does): a fresh isolate (its own state, nothing cached) over the same D1, KV, Durable Objects
 * and sandbox. Requests go through the Worker's fetch and scheduled handlers, waiting for their
 * background work.
 */
export function deployment(overrides: Partial<Env> & Record<string, unknown> = {}) {
  const deployed = { ...env, ...overrides } as Env;
  const state = createIsolateState({ clock, usageFlushMs: 0 });
  const worker = createGateway(state);

  async function fetch(path: string, init?: RequestInit): Promise<Response> {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(`${GATEWAY_URL}${path}`, init) as never, deployed, ctx);
    const body = await res.arrayBuffer();
    await waitOnExecutionContext(ctx);
    return new Response(body, res);
  }

  return {
    env: deployed,
    state,
    fetch,

    /** One cron invocation, as the scheduler makes it. */
    async scheduled(scheduledTime = Date.now()): Promise<void> {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ scheduledTime, cron: "*/5 * * * *" }), deployed, ctx);
      await waitOnExecutionContext(ctx);
    },

    async admin<T = any>(method: string, path: string, body?: unknown, token = ADMIN_TOKEN): Promise<AdminResult<T>> {
      const res = await fetch(`/admin/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers, text };
    },

    /** The official SDK against this deployment. */
    client(jwt: string): Zavudev {
      return new Zavudev({
        apiKey: jwt,
        baseURL: GATEWAY_URL,
        maxRetries: 0,
        fetch: async (input, init) => {
          const req = new Request(input as RequestInfo, init as RequestInit);
          const url = new URL(req.url);
          const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
          return fetch(url.pathname + url.search, { method: req.method, headers: req.headers, body });
        },
      });
    },
  };
}

/** A fresh key-encryption key (base64 of 32 random bytes). */
export function newKek(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}
