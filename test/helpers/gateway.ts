import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import Zavudev from "@zavudev/sdk";
import { createGateway } from "../../src/index";
import { SteppedClock } from "../../src/lib/clock";
import { createIsolateState } from "../../src/state";
import { scanResponse } from "../hygiene/ledger";

export const GATEWAY_URL = "https://gateway.test";

/**
 * The gateway isolate these tests talk to. Tests in the workers project do NOT share module
 * instances with the Worker that workerd runs from wrangler.toml's `main` (`exports.default`): a test
 * file imports its own copy of src/. So each test file builds its own gateway here, over a fresh
 * IsolateState (caches, counters, control-plane view) that the tests can read and reset, against the
 * real bindings (D1, KV, the Durable Objects, which workerd runs from the Worker's own module).
 * Every test file gets a new state: test files share nothing in memory.
 */
export const clock = new SteppedClock();
/** Usage counts are flushed in each request's own waitUntil (no interval), so a finished request's counts are in a shard. */
export const state = createIsolateState({ clock, usageFlushMs: 0 });
const gateway = createGateway(state);

/**
 * Another isolate of the gateway, over its own fresh state (nothing cached, no lease held), sharing
 * the bindings with every other: what a second location or a restarted isolate would be.
 */
export function newIsolate() {
  const own = createIsolateState({ clock, usageFlushMs: 0 });
  const isolate = createGateway(own);
  const send = async (request: Request) => {
    const ctx = createExecutionContext();
    const response = await isolate.fetch(request, env, ctx);
    await waitOnExecutionContext(ctx);
    return scanResponse(request, asSent(request, response));
  };
  return {
    state: own,
    fetch: (path: string, init?: RequestInit) => send(new Request(`${GATEWAY_URL}${path}`, init)),
    client: (jwt: string) =>
      new Zavudev({
        apiKey: jwt,
        baseURL: GATEWAY_URL,
        maxRetries: 0,
        fetch: (input, init) => send(new Request(input as RequestInfo, init as RequestInit)),
      }),
  };
}

/** A request straight into this file's gateway; its background work (waitUntil) is finished before it returns. */
export async function gatewayFetch(path: string, init?: RequestInit): Promise<Response> {
  return gatewayRequest(new Request(`${GATEWAY_URL}${path}`, init));
}

/**
 * A request straight into this file's gateway, as a `fetch` for clients (the typed admin client, the SDK).
 * Every answer is scanned for the gateway's secrets (test/hygiene/) before a test sees it. A HEAD
 * answer loses its body, as the runtime's HTTP layer drops it in front of a deployed Worker.
 */
export async function gatewayRequest(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await gateway.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return scanResponse(request, asSent(request, response));
}

function asSent(request: Request, response: Response): Response {
  if (request.method !== "HEAD" || !response.body) return response;
  void response.body.cancel();
  return new Response(null, response);
}

/** The official SDK as a customer app uses it: its JWT as apiKey, the gateway as baseURL. */
export function gatewayClient(jwt: string): Zavudev {
  return new Zavudev({
    apiKey: jwt,
    baseURL: GATEWAY_URL,
    maxRetries: 0,
    fetch: (input, init) => gatewayRequest(new Request(input as RequestInfo, init as RequestInit)),
  });
}

export async function expectApiError(
  p: Promise<unknown>,
  status: number,
  code: string,
): Promise<InstanceType<typeof Zavudev.APIError>> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof Zavudev.APIError)) throw new Error(`expected an APIError ${status} ${code}, got ${String(err)}`);
  if (err.status !== status || (err.error as { code?: string })?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${err.status} ${JSON.stringify(err.error)}`);
  }
  return err;
}
