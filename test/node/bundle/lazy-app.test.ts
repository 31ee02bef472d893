// The deploy bundle builds the admin API (its OpenAPI registry, its zod schemas), the console and the
// portal on the first request that needs them (src/index.ts): an isolate serving the customer edge,
// the relay, /healthz and the cron never evaluates them. Seen from inside the isolate: zod, which only
// they use, sets globalThis.__zod_globalConfig when it is evaluated. A test-only entry beside the
// bundle (as fault-entry.ts is) answers GET /__zod with whether it is set, and passes the rest on.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sqlStatements } from "../../../scripts/lib/sql-statements.mjs";
import { GATEWAY_SCRIPT, root, standaloneGatewayOptions } from "../harness/build";

const ADMIN_TOKEN = "lazy-app-admin-token";
const PROBE = `
import gateway from "./index.js";
export * from "./index.js";
export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__zod") return Response.json("__zod_globalConfig" in globalThis);
    return gateway.fetch(request, env, ctx);
  },
  scheduled: (controller, env, ctx) => gateway.scheduled(controller, env, ctx),
};
`;

let mf: Miniflare;
beforeAll(async () => {
  const dir = dirname(GATEWAY_SCRIPT);
  mf = new Miniflare(
    convertV4MiniflareOptions({
      handleStructuredLogs: () => {},
      workers: [
        {
          name: "gateway",
          modulesRoot: dir,
          modules: [
            { type: "ESModule", path: resolve(dir, "lazy-probe.mjs"), contents: PROBE },
            { type: "ESModule", path: GATEWAY_SCRIPT, contents: readFileSync(GATEWAY_SCRIPT, "utf8") },
          ],
          ...standaloneGatewayOptions("lazy", ADMIN_TOKEN, 5),
        },
      ],
    }),
  );
  await mf.ready;
  const db = await mf.getD1Database("DB");
  await db.batch(sqlStatements(readFileSync(resolve(root, "schema.sql"), "utf8")).map((s: string) => db.prepare(s)));
}, 180_000);
afterAll(() => mf?.dispose());

const send = async (path: string, init?: RequestInit) => {
  const res = await mf.dispatchFetch(`http://gateway.local${path}`, init as never);
  return { status: res.status, body: await res.text() };
};
const zodEvaluated = async () => JSON.parse((await send("/__zod")).body) as boolean;

it("the edge, the relay, /healthz and the cron run without evaluating the admin API, the console or the portal", async () => {
  expect(await zodEvaluated()).toBe(false);

  const health = await send("/healthz");
  expect([health.status, JSON.parse(health.body).status]).toEqual([200, "ok"]);
  // The deep check (admin token, D1, KV, Zavu, which nothing answers here) and its refusal.
  const deep = await send("/healthz?deep=1", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect([deep.status, JSON.parse(deep.body).checks.zavu.ok]).toEqual([503, false]);
  const refused = await send("/healthz?deep=1");
  expect([refused.status, JSON.parse(refused.body).code]).toEqual([401, "unauthorized"]);

  const edge = await send("/v1/messages", { method: "POST", headers: { authorization: "Bearer not-a-jwt" } });
  expect(edge.status).toBe(401);
  const relay = await send(`/relay/zavu/${"a".repeat(32)}`, { method: "POST", body: "{}" });
  expect(relay.status).toBe(404);
  const cron = await (await mf.getWorker()).scheduled({ cron: "*/5 * * * *", scheduledTime: new Date() });
  expect(cron.outcome).toBe("ok");

  expect(await zodEvaluated()).toBe(false);

  // The first request for the rest builds it, once.
  const doc = await send("/admin/v1/openapi.json");
  expect([doc.status, JSON.parse(doc.body).openapi]).toEqual([200, "3.1.0"]);
  expect(await zodEvaluated()).toBe(true);
  expect((await send("/console")).status).toBe(200);
  expect((await send("/nowhere")).status).toBe(404);
});
