import { exports } from "cloudflare:workers";
import Zavudev from "@zavudev/sdk";

export const GATEWAY_URL = "https://gateway.test";

/** A request straight into the gateway Worker under test. */
export function gatewayFetch(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${GATEWAY_URL}${path}`, init));
}

/** The official SDK as a customer app uses it: its JWT as apiKey, the gateway as baseURL. */
export function gatewayClient(jwt: string): Zavudev {
  return new Zavudev({
    apiKey: jwt,
    baseURL: GATEWAY_URL,
    maxRetries: 0,
    fetch: (input, init) => exports.default.fetch(new Request(input as RequestInfo, init as RequestInit)),
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
