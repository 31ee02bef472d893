// Builds what the node tests run: the gateway exactly as `wrangler deploy` bundles it, and the sandbox.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { build } from "esbuild";

export const root = resolve(import.meta.dirname, "../../..");
export const BUILD_DIR = resolve(root, ".wrangler/node-test-build");
export const GATEWAY_SCRIPT = resolve(BUILD_DIR, "gateway/index.js");
export const SANDBOX_SCRIPT = resolve(BUILD_DIR, "sandbox.mjs");
/** The test-only entry that wraps the gateway's bindings in fault rules (fault-entry.ts), beside the bundle it imports. */
export const FAULTS_SCRIPT = resolve(BUILD_DIR, "gateway/faults.js");

export async function buildAll(): Promise<void> {
  const wrangler = spawnSync(
    resolve(root, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--outdir", resolve(BUILD_DIR, "gateway")],
    { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, encoding: "utf8" },
  );
  if (wrangler.status !== 0)
    throw new Error(`wrangler deploy --dry-run failed:\n${wrangler.stdout}\n${wrangler.stderr}`);
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
