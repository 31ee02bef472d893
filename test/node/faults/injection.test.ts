// The fault injection itself (test/node/harness/fault-entry.ts, the sandbox's connection faults):
// each kind of fault reaches the gateway as the runtime or the network would deliver it.
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import {
  admin,
  type Cluster,
  createTenant,
  sandboxControl,
  sandboxLog,
  send,
  setDependencyFaults,
  startCluster,
} from "../harness/cluster";
import { NodeIdp } from "../harness/idp";

let cluster: Cluster;
let token: string;
beforeAll(async () => {
  cluster = await startCluster({ isolates: 2, faults: true, onLog: () => {} });
  const idp = await NodeIdp.create();
  await createTenant(cluster.gateways[0]!, { issuer: idp.issuer, jwks: idp.jwks() });
  token = await idp.token();
});
afterAll(() => cluster?.stop());
afterEach(async () => {
  await setDependencyFaults(cluster, []);
  await sandboxControl(cluster, "DELETE", "/faults");
});

const hits = async (gateway: string) =>
  ((await (await fetch(`${gateway}/__faults`)).json()) as { rules: Array<{ hits: number }> }).rules.map((r) => r.hits);

it("D1 failing: the admin API answers 5xx while it fails, and the rule counts its hits", async () => {
  await setDependencyFaults(cluster, [{ target: "DB", mode: "fail", match: "FROM tenants" }]);
  const failing = await admin(cluster.gateways[1]!, "GET", "/tenants");
  expect(failing.status).toBeGreaterThanOrEqual(500);
  expect((await hits(cluster.gateways[1]!))[0]).toBeGreaterThan(0);
  await setDependencyFaults(cluster, []);
  expect((await admin(cluster.gateways[1]!, "GET", "/tenants")).status).toBe(200);
});

it("D1 slow: a statement waits its delay", async () => {
  await setDependencyFaults(cluster, [{ target: "DB", mode: "delay", delayMs: 800, match: "FROM tenants" }]);
  const started = performance.now();
  expect((await admin(cluster.gateways[1]!, "GET", "/tenants")).status).toBe(200);
  expect(performance.now() - started).toBeGreaterThanOrEqual(790);
});

it("a Durable Object overloaded: the stub's call throws, the gateway answers without a 202", async () => {
  await setDependencyFaults(cluster, [{ target: "LEDGER", mode: "overloaded" }]);
  const r = await send(cluster.gateways[0]!, token, { body: { to: "+15551234567", text: "ledger down" } });
  expect(r.status).not.toBe(202);
  expect((await hits(cluster.gateways[0]!))[0]).toBeGreaterThan(0);
});

it("Zavu resets the connection after accepting a send: the send happened, the gateway answers 502", async () => {
  await sandboxControl(cluster, "POST", "/faults", {
    path: "/v1/messages",
    method: "POST",
    reset: true,
    afterEffect: true,
    count: 1,
  });
  const r = await send(cluster.gateways[0]!, token, { requestId: "reset-after" });
  expect(r.status).toBe(502);
  const accepted = (await sandboxLog(cluster)).filter((e) => e.headers["x-request-id"] === "reset-after");
  expect(accepted.map((e) => e.status)).toEqual([202]);
});

it("Zavu sends a slow body: headers at once, the send completes when the body comes", async () => {
  await sandboxControl(cluster, "POST", "/faults", {
    path: "/v1/messages",
    method: "POST",
    bodyDelayMs: 600,
    count: 1,
  });
  const started = performance.now();
  const r = await send(cluster.gateways[0]!, token);
  expect(r.status).toBe(202);
  expect(performance.now() - started).toBeGreaterThanOrEqual(590);
});
