import { afterAll, beforeAll, expect, it } from "vitest";
import { adminClient, type Cluster, customer, startCluster, stats } from "../harness/cluster";
import { NodeIdp } from "../harness/idp";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ isolates: 3 });
});
afterAll(() => cluster?.stop());

it("runs three gateway isolates, each with its own memory, over one D1, one KV and one sandbox", async () => {
  const idp = await NodeIdp.create();
  const [a, b, c] = cluster.gateways as [string, string, string];
  const created = await adminClient(a).POST("/tenants", {
    body: { name: "Shared", identity: { issuer: idp.issuer, jwks: idp.jwks() } },
  });
  expect(created.response.status).toBe(201);
  // Written through isolate a, read through b: one database.
  const read = await adminClient(b).GET("/tenants/{id}", { params: { path: { id: created.data!.tenant.id } } });
  expect(read.data?.tenant.name).toBe("Shared");
  // Sent through c: the sandbox (one team) sees it.
  const { message } = await customer(c, await idp.token()).messages.send({ to: "+15551234567" });
  expect(message.status).toBe("queued");
  // Counters are module state: only c verified a signature.
  const verified = (await Promise.all(cluster.gateways.map(stats))).map((s) => s.counters.signatureVerifications);
  expect(verified).toEqual([0, 0, 1]);
});
