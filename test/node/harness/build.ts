// Builds what the node tests run: the gateway exactly as `wrangler deploy` bundles it, and the sandbox.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { build } from "esbuild";

export const root = resolve(import.meta.dirname, "../../..");
export const BUILD_DIR = resolve(root, ".wrangler/node-test-build");
export const GATEWAY_SCRIPT = resolve(BUILD_DIR, "gateway/index.js");
export const SANDBOX_SCRIPT = resolve(BUILD_DIR, "sandbox.mjs");

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
}
