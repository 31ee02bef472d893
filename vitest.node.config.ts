import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "node",
    environment: "node",
    // The fault matrix (test/node/faults, issue 22) is part of it; `npm run test:faults` runs only it.
    include: ["test/node/**/*.test.ts"],
    globalSetup: ["./test/node/harness/global-setup.ts"],
    // Secret hygiene: answers from local servers are scanned (test/hygiene/node-setup.ts).
    setupFiles: ["./test/hygiene/node-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Each file starts its own workerd or browser: one at a time on a 2-core machine.
    fileParallelism: false,
  },
});
