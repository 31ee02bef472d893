// Builds what the node tests run: the gateway exactly as `wrangler deploy` bundles it, and the sandbox.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { build } from "esbuild";

export const root = resolve(import.meta.dirname, "../../..");
export const BUILD_DIR = resolve(root, ".wrangler/node-test-build");
export const GATEWAY_SCRIPT = resolve(BUILD_DIR, "gateway/index.js");
export const SANDBOX_SCRIPT = resolve(BUILD_DIR, "sandbox.mjs");
/** The test-only entry that wraps the gateway's bindings in fault rules (fault-entry.ts), beside the bundle it imports. */
export const FAULTS_SCRIPT = resolve(BUILD_DIR, "gateway/faults.js");

/** The deploy bundle as it would be without wrangler.toml's [alias]: zod itself in it, every locale included. */
export const ZOD_REFERENCE_SCRIPT = resolve(BUILD_DIR, "zod-reference/index.js");

function wranglerBuild(outdir: string, config?: string): void {
  const wrangler = spawnSync(
    resolve(root, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--outdir", outdir, ...(config ? ["--config", config] : [])],
    { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, encoding: "utf8" },
  );
  if (wrangler.status !== 0)
    throw new Error(`wrangler deploy --dry-run failed:\n${wrangler.stdout}\n${wrangler.stderr}`);
}

/**
 * `wrangler deploy --dry-run` with wrangler.toml less its [alias] table (a copy beside the build, whose
 * `main` points back at src/index.ts): the bundle the deploy would make if `zod` were zod itself.
 */
export function buildZodReference(): void {
  const toml = readFileSync(resolve(root, "wrangler.toml"), "utf8");
  const withoutAlias = toml.replace(/^\[alias\]\n(?:[^\n[]+\n)*/m, "");
  if (withoutAlias === toml || /^\[alias\]/m.test(withoutAlias))
    throw new Error("wrangler.toml: no [alias] table to leave out");
  const dir = resolve(BUILD_DIR, "zod-reference");
  mkdirSync(dir, { recursive: true });
  const config = resolve(dir, "wrangler.toml");
  const main = relative(dir, resolve(root, "src/index.ts"));
  writeFileSync(config, withoutAlias.replace(/^main = "src\/index\.ts"$/m, `main = "${main}"`));
  wranglerBuild(dir, config);
}

export async function buildAll(): Promise<void> {
  wranglerBuild(resolve(BUILD_DIR, "gateway"));
  await build({
    entryPoints: [resolve(root, "sandbox/src/index.ts")],
    outfile: SANDBOX_SCRIPT,
    bundle: true,
    format: "esm",
    platform: "neutral",
    external: ["cloudflare:*"],
    logLevel: "warning",
  });
  // The fault entry imports the deploy bundle itself (./index.js), not a second build of src/.
  await build({
    entryPoints: [resolve(root, "test/node/harness/fault-entry.ts")],
    outfile: FAULTS_SCRIPT,
    bundle: true,
    format: "esm",
    platform: "neutral",
    external: ["cloudflare:*"],
    logLevel: "warning",
    plugins: [
      {
        name: "deploy-bundle",
        setup(b) {
          b.onResolve({ filter: /\/src\/index$/ }, () => ({ path: "./index.js", external: true }));
        },
      },
    ],
  });
}

/**
 * What a deploy bundle needs to start alone in a Miniflare of its own (the bundle tests): local D1 and
 * KV named after `name`, the gateway's Durable Objects, and vars whose Zavu is nowhere (127.0.0.1:9).
 */
export function standaloneGatewayOptions(name: string, adminToken: string, keyByte: number) {
  return {
    compatibilityDate: "2026-11-01",
    compatibilityFlags: ["nodejs_compat"],
    d1Databases: { DB: `${name}-db` },
    kvNamespaces: { CACHE: `${name}-kv` },
    durableObjects: Object.fromEntries(
      [
        ["CONTROL", "ControlPlane"],
        ["LEDGER", "SpendLedger"],
        ["USAGE", "UsageShard"],
        ["WEBHOOKS", "WebhookDispatcher"],
        ["EVENTS", "TenantEvents"],
      ].map(([binding, className]) => [binding, { className, useSQLite: true }]),
    ),
    bindings: {
      // Nothing listens there: an input that passes validation fails fast.
      ZAVU_API_BASE: "http://127.0.0.1:9",
      ZAVU_API_KEY: `zv_live_${name}_unused`,
      KEY_ENCRYPTION_KEY: Buffer.alloc(32, keyByte).toString("base64"),
      ADMIN_TOKEN: adminToken,
    },
  };
}
