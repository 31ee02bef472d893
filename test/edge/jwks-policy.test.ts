import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { createGateway } from "../../src/index";
import { createIsolateState } from "../../src/state";
import { GATEWAY_URL } from "../helpers/gateway";
import { jwksFetchCount, publishJwks, TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

beforeAll(async () => {
  await sandbox.reset();
});

/** A new isolate of the gateway under the deployment's ALLOW_HTTP_JWKS (off in every deployed environment). */
async function balanceStatus(token: string, allowHttpJwks: boolean): Promise<number> {
  const gateway = createGateway(createIsolateState());
  const deployed = { ...env, ALLOW_HTTP_JWKS: allowHttpJwks ? "true" : "false" } as Env;
  const ctx = createExecutionContext();
  const res = await gateway.fetch(
    new Request(`${GATEWAY_URL}/v1/balance`, { headers: { authorization: `Bearer ${token}` } }),
    deployed,
    ctx,
  );
  await res.body?.cancel();
  await waitOnExecutionContext(ctx);
  return res.status;
}

/**
 * The admin API refuses an http jwksUri outside development, but a row can hold one anyway (written
 * while the policy was on, or by hand). Fetching it later, when keys are first loaded or refreshed,
 * must obey the deployment's policy too.
 */
describe("key set fetches obey the deployment's URL policy", () => {
  it("a loopback http jwksUri stored in D1 is never fetched when ALLOW_HTTP_JWKS is off", async () => {
    const idp = await TestIdp.create("https://loopback-jwks.example", "ES256");
    const path = "/loopback-policy/jwks.json";
    await publishJwks(path, idp.jwks());
    await insertTenant({ issuer: idp.issuer, jwksUri: `http://127.0.0.1:9/${path.slice(1)}` });
    const token = await idp.token();

    expect(await balanceStatus(token, false)).toBe(401);
    expect(await jwksFetchCount(path)).toBe(0);

    // The same row under development rules: the keys are fetched and the token passes (so the 401 above
    // was the policy, not a broken set-up).
    expect(await balanceStatus(token, true)).toBe(200);
    expect(await jwksFetchCount(path)).toBe(1);
  });
});
