#!/usr/bin/env node
// npm run setup [-- --env staging|production] [--dry-run] [--url https://gateway.example.com]
//
// The first deployment in one command, and safe to run again: it sets only the secrets the Worker
// lacks (KEY_ENCRYPTION_KEY and ADMIN_TOKEN generated, ZAVU_API_KEY from the environment or asked
// for), applies only pending D1 migrations, deploys only when the bundle or wrangler.toml changed
// (the first deploy creates the D1 database and the KV namespace), then checks GET /healthz.
// Secrets travel to `wrangler secret bulk` on stdin: never on a command line, never in a file.
// --dry-run prints every step and the rule that decides it, and runs nothing.
//
// Environment: ZAVU_API_KEY (the Zavu main key; else asked for), ADMIN_TOKEN and KEY_ENCRYPTION_KEY
// (to choose them; else generated and shown once, in a terminal), GATEWAY_URL (where to check health
// when the deploy does not say). Outside a terminal, every secret the Worker lacks must be given.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "..");
const SECRETS = ["KEY_ENCRYPTION_KEY", "ADMIN_TOKEN", "ZAVU_API_KEY"];

const { values: opts } = parseArgs({
  options: {
    env: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    url: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (opts.help) {
  console.log("npm run setup [-- --env staging|production] [--dry-run] [--url https://gateway.example.com]");
  process.exit(0);
}
const envName = opts.env ?? "";
const envArgs = envName ? ["--env", envName] : [];
const dryRun = opts["dry-run"];
const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);

class SetupError extends Error {}

/** The Worker's name in wrangler.toml for this environment (for messages only; wrangler resolves it itself). */
function workerName() {
  const toml = readFileSync(resolve(root, "wrangler.toml"), "utf8");
  const section = envName ? toml.split(`[env.${envName}]`)[1] : toml;
  if (section === undefined) throw new SetupError(`wrangler.toml has no [env.${envName}] environment.`);
  return /^name\s*=\s*"([^"]+)"/m.exec(section.split(/^\[/m)[0])?.[1] ?? "?";
}

// ---------------------------------------------------------------------------------------------
// The plan: every command the setup may run, in order, with the rule that decides it.
// ---------------------------------------------------------------------------------------------
const cmd = {
  whoami: ["whoami", "--json"],
  secretList: ["secret", "list", "--format", "json", ...envArgs],
  secretBulk: ["secret", "bulk", ...envArgs],
  migrationsList: ["d1", "migrations", "list", "DB", "--remote", ...envArgs],
  migrationsApply: ["d1", "migrations", "apply", "DB", "--remote", ...envArgs],
  build: (outdir) => ["deploy", "--dry-run", "--outdir", outdir, ...envArgs],
  deployedStatus: ["deployments", "status", "--json", ...envArgs],
  versionView: (id) => ["versions", "view", id, "--json", ...envArgs],
  deploy: (tag) => ["deploy", "--tag", tag, "--message", "npm run setup", ...envArgs],
};

const PLAN = [
  { title: "Check the Cloudflare login", commands: [cmd.whoami] },
  { title: "Read which secrets the Worker already has", commands: [cmd.secretList] },
  {
    title: "Set the secrets it lacks, in one call, on stdin (an existing secret is never replaced)",
    commands: [cmd.secretBulk],
    notes: [
      "the values go to stdin as one JSON object; only the missing ones:",
      "KEY_ENCRYPTION_KEY  $KEY_ENCRYPTION_KEY, else 32 random bytes generated here and shown once (in a terminal)",
      "                    (only when missing: replacing it would leave every sealed key unreadable)",
      "ADMIN_TOKEN         $ADMIN_TOKEN, else 32 random bytes generated here and shown once (in a terminal)",
      "ZAVU_API_KEY        $ZAVU_API_KEY, else asked for (a main-account key, never a sub-account key)",
    ],
  },
  {
    title: "Apply pending D1 migrations before the deploy (when the database exists already)",
    commands: [cmd.migrationsList, cmd.migrationsApply],
    notes: ["apply runs only when list shows pending migrations"],
  },
  {
    title: "Build the bundle and compare its fingerprint with the deployed version's tag",
    commands: [cmd.build("<temporary directory>"), cmd.deployedStatus, cmd.versionView("<current version id>")],
    notes: ["fingerprint = SHA-256 of the built modules and wrangler.toml; the directory is removed afterwards"],
  },
  {
    title: "Deploy when the fingerprint differs (the first deploy creates the D1 database and the KV namespace)",
    commands: [cmd.deploy("setup-<fingerprint>")],
  },
  {
    title: "Apply the migrations to a database that deploy just created",
    commands: [cmd.migrationsApply],
    notes: ["only when step 4 found no database"],
  },
  {
    title: "Check health",
    commands: [["GET <url>/healthz"], ["GET <url>/healthz?deep=1  (Authorization: Bearer <admin token>, when known)"]],
    notes: ["<url>: --url, else the URL the deploy printed, else $GATEWAY_URL"],
  },
];

/** A command line as a shell would need it. */
const shown = (args) => args.map((a) => (/[\s"]/.test(a) && !a.startsWith("<") ? JSON.stringify(a) : a)).join(" ");

function printPlan() {
  console.log(
    `Zavu gateway setup: ${envName ? `environment "${envName}"` : "top-level environment"} (Worker ${workerName()})`,
  );
  console.log("Dry run: nothing is run or changed. The plan:\n");
  for (const [i, step] of PLAN.entries()) {
    console.log(`${i + 1}. ${step.title}`);
    for (const c of step.commands)
      console.log(`   ${c[0].startsWith("GET ") ? c.join(" ") : `$ wrangler ${shown(c)}`}`);
    for (const note of step.notes ?? []) console.log(`     ${note}`);
  }
  console.log("\nRun again without --dry-run to apply. A second run changes only what is missing.");
}

// ---------------------------------------------------------------------------------------------
// Running wrangler: found on PATH (npm run puts this project's first), output captured.
// ---------------------------------------------------------------------------------------------
const childEnv = {
  ...process.env,
  PATH: [process.env.PATH, resolve(root, "node_modules/.bin")].filter(Boolean).join(delimiter),
  WRANGLER_SEND_METRICS: "false",
};

/** Runs `wrangler <args>`; `input` goes to stdin. Resolves with its exit code and output. */
function wrangler(args, { input, echo = false, env = {} } = {}) {
  return new Promise((done, fail) => {
    const child = spawn("wrangler", args, { cwd: root, env: { ...childEnv, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (echo) process.stdout.write(d);
    });
    child.stderr.on("data", (d) => {
      err += d;
      if (echo) process.stderr.write(d);
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code, out, err }));
    child.stdin.end(input ?? "");
  });
}

/** The first JSON value in wrangler's output (it may print a banner or warnings around it). */
function jsonIn(text) {
  const start = text.search(/[[{]/);
  if (start < 0) return null;
  for (let end = text.length; end > start; end = text.lastIndexOf(text[start] === "[" ? "]" : "}", end - 1)) {
    try {
      return JSON.parse(text.slice(start, end));
    } catch {}
  }
  return null;
}

const step = (n, text) => console.log(`\n${n}. ${text}`);
const done = (text) => console.log(`   ${text}`);

async function checkLogin() {
  step(1, "Cloudflare login");
  const r = await wrangler(cmd.whoami);
  if (r.code !== 0)
    throw new SetupError("Not logged in to Cloudflare: run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN).");
  done("logged in");
}

async function existingSecrets() {
  step(2, "Secrets the Worker has");
  const r = await wrangler(cmd.secretList);
  if (r.code !== 0) {
    if (/10007|does not exist|not found/i.test(r.out + r.err)) {
      done("the Worker does not exist yet: none");
      return [];
    }
    throw new SetupError(`wrangler secret list failed:\n${r.err || r.out}`);
  }
  const names = (jsonIn(r.out) ?? []).map((s) => s.name);
  done(names.length ? names.join(", ") : "none");
  return names;
}

async function askHidden(question) {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const write = rl._writeToOutput?.bind(rl);
  rl._writeToOutput = (s) => (s === question ? write?.(s) : undefined); // echo nothing the user types
  const answer = await rl.question(question);
  rl.close();
  process.stdout.write("\n");
  return answer.trim();
}

/** The secrets to set: only those the Worker lacks. Throws before anything is changed when one cannot be had. */
async function missingSecrets(existing) {
  const wanted = {};
  const shown = {}; // generated here: shown once at the end, in a terminal only
  const missing = SECRETS.filter((name) => !existing.includes(name));
  const generated = (name, make) => {
    if (process.env[name]) return process.env[name].trim();
    if (!interactive) {
      throw new SetupError(
        `${name} is not set on the Worker. Outside a terminal a generated one could not be shown to you: pass ${name} in the environment.`,
      );
    }
    shown[name] = make();
    return shown[name];
  };
  if (missing.includes("KEY_ENCRYPTION_KEY")) {
    wanted.KEY_ENCRYPTION_KEY = generated("KEY_ENCRYPTION_KEY", () => randomBytes(32).toString("base64"));
    if (Buffer.from(wanted.KEY_ENCRYPTION_KEY, "base64").length !== 32) {
      throw new SetupError("KEY_ENCRYPTION_KEY must be base64 of exactly 32 bytes (openssl rand -base64 32).");
    }
  }
  if (missing.includes("ADMIN_TOKEN")) {
    wanted.ADMIN_TOKEN = generated("ADMIN_TOKEN", () => randomBytes(32).toString("base64url"));
  }
  if (missing.includes("ZAVU_API_KEY")) {
    let key = process.env.ZAVU_API_KEY?.trim();
    if (!key && interactive) key = await askHidden("Zavu main-account API key (input hidden): ");
    if (!key)
      throw new SetupError(
        "ZAVU_API_KEY is not set on the Worker: pass it in the environment, or run this in a terminal.",
      );
    if (!/^zv_(live|test)_/.test(key) || /^zv_(live|test)_sub_/.test(key)) {
      throw new SetupError("ZAVU_API_KEY must be a Zavu main-account key (zv_live_…), not a sub-account key.");
    }
    wanted.ZAVU_API_KEY = key;
  }
  return { wanted, shown };
}

async function setSecrets(wanted) {
  step(3, "Missing secrets");
  const names = Object.keys(wanted);
  if (names.length === 0) return done("none missing: nothing set");
  const r = await wrangler(cmd.secretBulk, { input: JSON.stringify(wanted) });
  if (r.code !== 0) throw new SetupError(`wrangler secret bulk failed:\n${r.err || r.out}`);
  done(`set ${names.join(", ")} (one wrangler secret bulk call, values on stdin)`);
}

/** Whether the database exists, and whether migrations are pending. */
async function migrationState() {
  const r = await wrangler(cmd.migrationsList);
  const text = r.out + r.err;
  if (r.code !== 0) {
    if (/couldn't find|not found|7404/i.test(text)) return { exists: false, pending: true };
    throw new SetupError(`wrangler d1 migrations list failed:\n${text}`);
  }
  return { exists: true, pending: !/No migrations to apply/i.test(text) };
}

async function applyMigrations() {
  const r = await wrangler(cmd.migrationsApply, { env: { CI: "true" } }); // CI: no confirmation prompt
  if (r.code !== 0) throw new SetupError(`wrangler d1 migrations apply failed:\n${r.err || r.out}`);
}

async function fingerprint() {
  const outdir = mkdtempSync(join(tmpdir(), "zavu-setup-"));
  try {
    const r = await wrangler(cmd.build(outdir));
    if (r.code !== 0) throw new SetupError(`The bundle does not build (wrangler deploy --dry-run):\n${r.err || r.out}`);
    const hash = createHash("sha256")
      .update(`env:${envName}\n`)
      .update(readFileSync(resolve(root, "wrangler.toml")));
    for (const file of readdirSync(outdir, { recursive: true }).map(String).sort()) {
      if (file.endsWith(".map") || file.endsWith("README.md")) continue;
      try {
        hash.update(file).update(readFileSync(join(outdir, file)));
      } catch {} // a directory
    }
    return `setup-${hash.digest("hex").slice(0, 16)}`;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

async function deployedTag() {
  const status = await wrangler(cmd.deployedStatus);
  if (status.code !== 0) return null; // never deployed
  const versionId = jsonIn(status.out)?.versions?.[0]?.version_id;
  if (!versionId) return null;
  const view = await wrangler(cmd.versionView(versionId));
  return view.code === 0 ? (jsonIn(view.out)?.annotations?.["workers/tag"] ?? null) : null;
}

/** The Worker's address, from what the deploy printed after "Deployed …": its workers.dev URL or first custom domain. */
function urlFrom(output) {
  const triggers = output.split(/^Deployed .*$/m)[1] ?? "";
  const url = /^\s+(https?:\/\/\S+)/m.exec(triggers)?.[1];
  if (url) return url;
  const host = /^\s+([a-z0-9-]+(?:\.[a-z0-9-]+)+)\s+\(custom domain\)/im.exec(triggers)?.[1];
  return host ? `https://${host}` : null;
}

async function deploy(tag) {
  const r = await wrangler(cmd.deploy(tag), { echo: true });
  if (r.code !== 0) throw new SetupError("wrangler deploy failed (its output is above).");
  return urlFrom(r.out);
}

async function checkHealth(url, adminToken) {
  step(8, "Health");
  if (!url) return done("skipped: no URL known (pass --url or GATEWAY_URL)");
  const base = url.replace(/\/+$/, "");
  let shallow = null;
  for (let attempt = 0; attempt < 15; attempt++) {
    shallow = await fetch(`${base}/healthz`).then(
      async (r) => ({ status: r.status, body: await r.json().catch(() => null) }),
      () => null,
    );
    if (shallow?.status === 200) break;
    await new Promise((r) => setTimeout(r, 2000)); // a new Worker can take a few seconds to answer
  }
  if (shallow?.status !== 200) throw new SetupError(`GET ${base}/healthz did not answer 200.`);
  done(`GET ${base}/healthz: ${shallow.body?.status ?? "ok"} (version ${shallow.body?.version ?? "?"})`);
  if (!adminToken) return done("deep check skipped (the admin token was not set by this run)");
  const res = await fetch(`${base}/healthz?deep=1`, { headers: { authorization: `Bearer ${adminToken}` } });
  const body = await res.json().catch(() => null);
  for (const [name, check] of Object.entries(body?.checks ?? {}))
    done(`${name.padEnd(5)} ${check.ok ? "ok" : `FAILED (${check.error})`}`);
  if (res.status !== 200) throw new SetupError(`GET ${base}/healthz?deep=1 answered ${res.status}.`);
}

async function main() {
  if (dryRun) return printPlan();
  console.log(
    `Zavu gateway setup: ${envName ? `environment "${envName}"` : "top-level environment"} (Worker ${workerName()})`,
  );
  await checkLogin();
  const existing = await existingSecrets();
  const { wanted, shown } = await missingSecrets(existing);
  await setSecrets(wanted);

  step(4, "D1 migrations");
  const db = await migrationState();
  if (!db.exists) done("no database yet: the deploy creates it, migrations follow it");
  else if (db.pending) {
    await applyMigrations();
    done("applied the pending migrations");
  } else done("none pending");

  step(5, "Bundle");
  const tag = await fingerprint();
  const current = await deployedTag();
  done(current === tag ? `unchanged since the last setup deploy (${tag})` : `fingerprint ${tag}`);

  step(6, "Deploy");
  let url = opts.url ?? null;
  if (current === tag) done("skipped: this exact bundle and configuration are deployed");
  else url ??= await deploy(tag);

  step(7, "Migrations on a new database");
  if (db.exists) done("not needed");
  else {
    await applyMigrations();
    done("applied");
  }

  const adminToken = (wanted.ADMIN_TOKEN ?? process.env.ADMIN_TOKEN ?? "").split(",")[0].trim() || null;
  await checkHealth(url ?? process.env.GATEWAY_URL ?? null, adminToken);

  if (Object.keys(shown).length > 0) {
    console.log("\nGenerated here and shown this once. Keep them in your password manager: nothing else stores them.");
    console.log(
      "(ADMIN_TOKEN calls the admin API; KEY_ENCRYPTION_KEY is needed to rotate it later, see docs/operate.md.)",
    );
    for (const [name, value] of Object.entries(shown)) console.log(`   ${name}=${value}`);
  }
  console.log("\nDone. Running this again changes only what is missing.");
}

main().catch((err) => {
  console.error(`\nsetup stopped: ${err instanceof SetupError ? err.message : err.stack}`);
  process.exit(1);
});
