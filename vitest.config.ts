import { defineConfig } from "vitest/config";

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
    // The gateway's structured log lines (src/lib/log.ts) are asserted where they matter
    // (test/observability.test.ts); printing every one would bury the test output.
    onConsoleLog: (line) => (line.includes('{"at":"') ? false : undefined),
  },
});
