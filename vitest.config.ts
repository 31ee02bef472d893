import { defineConfig } from "vitest/config";
import { collectConsole } from "./test/hygiene/collect.ts";

/**
 * `npm test` runs two projects:
 * - workers: everything under test/ and src/ (unit tests beside their module), inside workerd
 *   with real D1, KV and Durable Objects, the sandbox and a test IdP beside the gateway;
 * - node: test/node/, driven from Node: several gateway isolates in one workerd (the
 *   multi-isolate bed), the browser tests, and the scripts.
 */
export default defineConfig({
  test: {
    projects: ["./vitest.workers.config.ts", "./vitest.node.config.ts"],
    // Secret hygiene: every console line of the run is scanned (test/hygiene/). The gateway's
    // structured log lines (src/lib/log.ts) are asserted where they matter (test/observability.test.ts);
    // printing every one would bury the test output.
    onConsoleLog: (line, type) => collectConsole(line, type) ?? (line.includes('{"at":"') ? false : undefined),
  },
});
