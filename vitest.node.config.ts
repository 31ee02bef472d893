import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "node",
    environment: "node",
    include: ["test/node/**/*.test.ts"],
    // The fault matrix (issue 22) runs with `npm run test:faults` (FAULTS=1), not in `npm test`: two of its
    // rows still fail now and then (an alert left pending after D1 failures; docs/known-limits.md).
    exclude: process.env.FAULTS ? [] : ["test/node/faults/matrix.test.ts"],
    globalSetup: ["./test/node/harness/global-setup.ts"],
    // Secret hygiene: answers from local servers are scanned (test/hygiene/node-setup.ts).
    setupFiles: ["./test/hygiene/node-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Each file starts its own workerd or browser: one at a time on a 2-core machine.
    fileParallelism: false,
  },
});
