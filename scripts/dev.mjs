#!/usr/bin/env node
// npm run dev: the gateway on :8787 and the Zavu sandbox on :8788, local D1 and KV,
// migrations applied, secrets generated on first run. Ctrl-C stops both.
// The cron's maintenance run is one request away: GET /__scheduled (wrangler dev --test-scheduled).
//   GATEWAY_PORT=9000 SANDBOX_PORT=9001 npm run dev
// With a stand-in for Cloudflare Access (scripts/access-dev.mjs; docs/team.md):
//   npm run dev -- --access
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const gatewayPort = Number(process.env.GATEWAY_PORT ?? 8787);
const sandboxPort = Number(process.env.SANDBOX_PORT ?? 8788);
const wrangler = resolve(root, "node_modules/.bin/wrangler");
const childEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const SANDBOX_MAIN_KEY = /MAIN_API_KEY = "([^"]+)"/.exec(
  readFileSync(resolve(root, "sandbox/wrangler.toml"), "utf8"),
)[1];

function ensureDevVars() {
  const path = resolve(root, ".dev.vars");
  if (existsSync(path)) {
    console.log(`Using secrets from ${path}`);
    return;
  }
  const lines = [
    "# Local secrets for `npm run dev`, generated on first run. Never commit this file.",
    `ADMIN_TOKEN=${randomBytes(32).toString("base64url")}`,
    `KEY_ENCRYPTION_KEY=${randomBytes(32).toString("base64")}`,
    `ZAVU_API_KEY=${SANDBOX_MAIN_KEY}`,
    "",
  ];
  writeFileSync(path, lines.join("\n"), { mode: 0o600 });
  console.log(`Wrote fresh ADMIN_TOKEN and KEY_ENCRYPTION_KEY to ${path} (git-ignored).`);
}

function applyMigrations() {
  const result = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local"], {
    cwd: root,
    env: { ...childEnv, CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
  if (result.status !== 0) {
    console.error(result.stdout, result.stderr);
    throw new Error("applying D1 migrations failed");
  }
  console.log("D1 migrations applied (local).");
}

const children = [];

function start(name, args) {
  const child = spawn(wrangler, args, { cwd: root, env: childEnv, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const prefix = `[${name}] `;
  const relay = (stream, out) =>
    stream.on("data", (chunk) => {
      for (const line of chunk.toString().split("\n")) if (line.trim()) out.write(`${prefix + line}\n`);
    });
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
  child.on("exit", (code) => {
    if (!stopping) {
      console.error(`${name} exited (${code}); stopping.`);
      stop(1);
    }
  });
  children.push(child);
}

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGTERM"); // the whole group: wrangler and its workerd
    } catch {}
  }
  setTimeout(() => {
    for (const child of children) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }
    process.exit(code);
  }, 1500).unref();
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

async function waitFor(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not come up within ${timeoutMs / 1000}s`);
}

ensureDevVars();
applyMigrations();
const accessVars = [];
if (process.argv.includes("--access")) {
  const access = await import("./access-dev.mjs");
  await access.serve();
  accessVars.push(
    "--var",
    `ACCESS_TEAM_DOMAIN:${access.ACCESS_DEV_DOMAIN}`,
    "--var",
    `ACCESS_AUD:${access.ACCESS_DEV_AUD}`,
  );
  console.log(
    `Access stand-in on http://${access.ACCESS_DEV_DOMAIN}; an assertion: node scripts/access-dev.mjs sign you@example.com`,
  );
}
const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
start("sandbox", [
  "dev",
  "-c",
  "sandbox/wrangler.toml",
  "--ip",
  "127.0.0.1",
  "--port",
  String(sandboxPort),
  "--inspector-port",
  String(sandboxPort + 1000),
]);
start("gateway", [
  "dev",
  "-c",
  "wrangler.toml",
  "--ip",
  "127.0.0.1",
  "--port",
  String(gatewayPort),
  "--inspector-port",
  String(gatewayPort + 1000),
  "--test-scheduled",
  "--var",
  `ZAVU_API_BASE:${sandboxUrl}`,
  "--var",
  "ALLOW_HTTP_JWKS:true",
  ...accessVars,
]);
try {
  await Promise.all([waitFor(`${sandboxUrl}/__sandbox/team`), waitFor(`http://127.0.0.1:${gatewayPort}/healthz`)]);
} catch (err) {
  console.error(err.message);
  stop(1);
}
if (!stopping) {
  console.log(`
  Gateway  http://127.0.0.1:${gatewayPort}   (admin API: /admin/v1, reference: /admin/v1/docs)
  Console  http://127.0.0.1:${gatewayPort}/console   (sign in with ADMIN_TOKEN; customers' portal: /onboard/...)
  Cron     http://127.0.0.1:${gatewayPort}/__scheduled   (one maintenance run; see GET /admin/v1/maintenance)
  Sandbox  ${sandboxUrl}   (Zavu API emulator; control API: /__sandbox)
  Webhooks ${sandboxUrl}/__sandbox/hooks/dev   (a receiver that logs what arrives: register it with
           POST /admin/v1/webhooks {"url": "<that URL>", "events": [...]}; GET ${sandboxUrl}/__sandbox/hooks lists it all)
  Secrets  .dev.vars (ADMIN_TOKEN for the admin API; ZAVU_API_KEY is the sandbox main key)
  Try it   npm run demo     Stop: Ctrl-C
`);
}
