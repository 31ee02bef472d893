import { afterAll, beforeAll, expect, it } from "vitest";
import { type Cluster, createTenant, send, startCluster, stats } from "../harness/cluster";
import { NodeIdp } from "../harness/idp";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ isolates: 3 });
});
afterAll(() => cluster?.stop());

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A JWT-shaped token nobody signed, naming a random issuer. */
function garbage(): string {
  const header = b64url({ alg: "ES256", kid: crypto.randomUUID() });
  const payload = b64url({
    iss: `https://${crypto.randomUUID()}.example`,
    sub: "x",
    exp: Math.floor(Date.now() / 1000) + 600,
  });
  return `${header}.${payload}.${Buffer.from(crypto.getRandomValues(new Uint8Array(64))).toString("base64url")}`;
}

it("a flood of unsigned tokens with random issuers costs at most 1 D1 query a second per isolate (bursts of 3) and evicts nothing", async () => {
  const idp = await NodeIdp.create();
  await createTenant(cluster.gateways[0]!, { issuer: idp.issuer, jwks: idp.jwks() });
  const token = await idp.token();
  for (const g of cluster.gateways) expect((await send(g, token)).status).toBe(202); // warm in every isolate

  const before = await Promise.all(cluster.gateways.map(stats));
  const perIsolate = 1_000;
  const startedAt = Date.now();
  await Promise.all(
    cluster.gateways.map(async (gateway) => {
      for (let batch = 0; batch < perIsolate / 100; batch++) {
        await Promise.all(
          Array.from({ length: 100 }, async () => {
            const r = await send(gateway, garbage());
            expect(r.status).toBe(401);
          }),
        );
      }
    }),
  );
  const seconds = (Date.now() - startedAt) / 1000;
  const after = await Promise.all(cluster.gateways.map(stats));
  const d1 = after.map((s, i) => s.counters.d1Queries! - before[i]!.counters.d1Queries!);
  // D1 checks of unknown issuers: a token bucket of 3, refilled at 1 a second.
  for (const queries of d1) expect(queries).toBeLessThanOrEqual(3 + Math.ceil(seconds));
  // Past that, a request waits for a control-plane sync that starts after it: at most 2 a second.
  const catchUps = after.map((s, i) => s.counters.controlCatchUps! - before[i]!.counters.controlCatchUps!);
  for (const syncs of catchUps) {
    expect(syncs).toBeGreaterThan(0); // the flood is past the D1 allowance: those requests waited for one
    expect(syncs).toBeLessThanOrEqual(1 + Math.ceil(seconds * 2));
  }

  // The warm tenant is still warm: its next request costs no D1 query and no signature check.
  const warm = await Promise.all(cluster.gateways.map(stats));
  for (const g of cluster.gateways) expect((await send(g, token)).status).toBe(202);
  const end = await Promise.all(cluster.gateways.map(stats));
  for (const [i, s] of end.entries()) {
    expect(s.counters.d1Queries! - warm[i]!.counters.d1Queries!).toBe(0);
    expect(s.counters.signatureVerifications! - warm[i]!.counters.signatureVerifications!).toBe(0);
  }
  console.log(
    `[cluster] garbage flood: ${3 * perIsolate} requests in ${seconds.toFixed(1)} s, D1 queries per isolate ` +
      `${d1.join("/")} (${(Math.max(...d1) / perIsolate).toFixed(4)} per request at most), control-plane catch-ups ${catchUps.join("/")}`,
  );
});
