import { readFile } from "node:fs/promises";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { build } from "esbuild";
import { defineConfig } from "vitest/config";
import { TEST_SECRETS } from "./test/test-secrets.ts";

export const TEST_MAIN_KEY = TEST_SECRETS.ZAVU_API_KEY;
const COMPAT_DATE = "2026-11-01";
const SANDBOX_BUNDLE = ".wrangler/test-build/sandbox.mjs";

export default defineConfig(async () => {
  // wrangler.toml lists required secrets; the plugin looks for them in the environment (and warns
  // once per test file when they are missing). The bindings below are what the tests really use.
  for (const [name, value] of Object.entries(TEST_SECRETS)) process.env[name] ??= value;

  // The sandbox runs beside the gateway as an auxiliary Worker, which takes built JavaScript.
  await build({
    entryPoints: ["sandbox/src/index.ts"],
    outfile: SANDBOX_BUNDLE,
    bundle: true,
    format: "esm",
    platform: "neutral",
    external: ["cloudflare:*"],
    logLevel: "warning",
  });

  const routed = { SANDBOX: "zavu-sandbox", IDP: "test-idp" };
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          d1Databases: { SCHEMA_CHECK_DB: "schema-check" },
          bindings: {
            TEST_MIGRATIONS: await readD1Migrations("./migrations"),
            // schema.sql is what a reader sees; the migrations are what runs (test/schema.test.ts).
            SCHEMA_SQL: await readFile("schema.sql", "utf8"),
            ZAVU_API_BASE: "http://zavu.sandbox",
            ...TEST_SECRETS,
            UPSTREAM_TIMEOUT_MS: "1500",
            // Webhook retries in milliseconds instead of hours (5 min -> 6 ms, 10 h -> 720 ms: 8 attempts in ~2 s).
            WEBHOOK_RETRY_SCALE: "0.00002",
          },
          serviceBindings: routed,
          outboundService: "upstream-router",
          workers: [
            {
              name: "zavu-sandbox",
              modules: true,
              scriptPath: SANDBOX_BUNDLE,
              compatibilityDate: COMPAT_DATE,
              durableObjects: { STATE: { className: "SandboxState", useSQLite: true } },
              bindings: { MAIN_API_KEY: TEST_MAIN_KEY },
              // Its webhook posts stay on the machine too (down.sandbox: a receiver that cannot be reached).
              outboundService: "upstream-router",
            },
            { name: "test-idp", modules: true, scriptPath: "test/workers/idp.mjs", compatibilityDate: COMPAT_DATE },
            {
              name: "upstream-router",
              modules: true,
              scriptPath: "test/workers/upstream-router.mjs",
              compatibilityDate: COMPAT_DATE,
              serviceBindings: routed,
            },
          ],
        },
      }),
    ],
    test: {
      name: "workers",
      include: ["test/**/*.test.ts", "src/**/*.test.ts"],
      exclude: ["test/node/**", "node_modules/**"],
      setupFiles: ["./test/setup.ts"],
      // Asserts the secret-hygiene scan over the whole run, after every project has finished.
      globalSetup: ["./test/hygiene/global-setup.ts"],
      testTimeout: 20_000,
    },
  };
});
