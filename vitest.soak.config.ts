import { defineConfig } from "vitest/config";

/** The soak only (scripts/soak.mjs): not part of `npm test`. */
export default defineConfig({
  test: {
    name: "soak",
    environment: "node",
    include: ["test/node/faults/soak.run.ts"],
    globalSetup: ["./test/node/harness/global-setup.ts"],
    setupFiles: ["./test/hygiene/node-setup.ts"],
    hookTimeout: 180_000,
    onConsoleLog: (line) => (line.includes('{"at":"') ? false : undefined),
  },
});
