import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, afterEach, beforeEach, expect } from "vitest";
import gateway from "../src/index";
import { ledger, reportTally, scanResponse, watchConsole } from "./hygiene/ledger";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// Secret hygiene (test/hygiene/): every answer the gateway gives in this suite, through
// exports.default.fetch, a helper or a direct import, and every console line, is scanned for the
// gateway's secrets. A test that leaks one fails; each file reports its counts to the final summary.
const handle = gateway.fetch.bind(gateway);
gateway.fetch = async (request, workerEnv, ctx) => scanResponse(request, await handle(request, workerEnv, ctx));
watchConsole();

let mark = 0;
let file = "unknown file";
beforeEach((context) => {
  file = context.task.file.name;
  ledger().currentTest = context.task.name;
  mark = ledger().hits.length;
});
afterEach(() => {
  ledger().currentTest = undefined;
  expect(ledger().hits.slice(mark), "secrets in the gateway's answers or logs").toEqual([]);
});
afterAll(() => {
  reportTally(file);
});
