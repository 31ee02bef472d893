// A stand-in for `wrangler` for testing scripts/setup.mjs without a Cloudflare account. It keeps a
// small account state in $FAKE_WRANGLER_STATE (JSON) and appends every call (argv, and the names
// of any secrets it received on stdin) to $FAKE_WRANGLER_LOG (one JSON object per line).
// Its answers mimic wrangler 4.164's output for the commands the setup uses.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const REQUIRED = ["ZAVU_API_KEY", "KEY_ENCRYPTION_KEY", "ADMIN_TOKEN"];
const args = process.argv.slice(2);
const statePath = process.env.FAKE_WRANGLER_STATE;
const state = JSON.parse(readFileSync(statePath, "utf8"));
const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));
const stdin = process.stdin.isTTY ? "" : readFileSync(0, "utf8");
const received = stdin.trim().startsWith("{") ? JSON.parse(stdin) : null;
appendFileSync(
  process.env.FAKE_WRANGLER_LOG,
  `${JSON.stringify({ args, stdinKeys: received ? Object.keys(received) : [] })}\n`,
);

const has = (flag) => args.includes(flag);
const value = (flag) => args[args.indexOf(flag) + 1];
const fail = (message) => {
  process.stderr.write(`✘ [ERROR] ${message}\n`);
  process.exit(1);
};
const command = args
  .filter((a) => !a.startsWith("-"))
  .slice(0, 3)
  .join(" ");

if (!state.loggedIn && !(args[0] === "deploy" && has("--dry-run"))) {
  fail("You are not authenticated. Please run `wrangler login`.");
}

if (command.startsWith("whoami")) {
  console.log(JSON.stringify({ loggedIn: true, authType: "OAuth Token", email: "ops@reseller.example" }));
} else if (command.startsWith("secret list")) {
  if (!state.workerExists)
    fail("A request to the Cloudflare API failed. This Worker does not exist on your account. [code: 10007]");
  console.log(JSON.stringify(Object.keys(state.secrets).map((name) => ({ name, type: "secret_text" }))));
} else if (command.startsWith("secret bulk")) {
  if (!received) fail("No content found in file, or piped input.");
  if (!state.workerExists) {
    console.log(`🌀 Creating new Worker "${state.name}"...`);
    state.workerExists = true;
    state.deployedTag = null;
  }
  Object.assign(state.secrets, received);
  state.deployedTag = null; // a secret change deploys a new version without the setup's tag
  save();
  console.log(`✨ ${Object.keys(received).length} secrets successfully created`);
} else if (command.startsWith("d1 migrations list")) {
  if (!state.dbExists) fail(`Couldn't find a D1 DB named '${state.name}' (bound as 'DB') in the API.`);
  if (state.pendingMigrations.length === 0) console.log("✅ No migrations to apply!");
  else console.log(`Migrations to be applied:\n${state.pendingMigrations.join("\n")}`);
} else if (command.startsWith("d1 migrations apply")) {
  if (!state.dbExists) fail(`Couldn't find a D1 DB named '${state.name}' (bound as 'DB') in the API.`);
  if (process.env.CI !== "true") fail("would prompt for confirmation (non-interactive without CI)");
  state.appliedMigrations.push(...state.pendingMigrations);
  state.pendingMigrations = [];
  save();
  console.log("✅ Migrations applied");
} else if (args[0] === "deploy" && has("--dry-run")) {
  const outdir = value("--outdir");
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, "index.js"), state.bundle);
  writeFileSync(join(outdir, "index.js.map"), `{"random":"${Math.random()}"}`);
  console.log("--dry-run: exiting now.");
} else if (command.startsWith("deployments status")) {
  if (!state.workerExists) fail("This Worker does not exist on your account. [code: 10007]");
  console.log(JSON.stringify({ id: "dep-1", versions: [{ version_id: state.versionId, percentage: 100 }] }, null, 2));
} else if (command.startsWith("versions view")) {
  if (value("view") !== state.versionId) fail("no such version");
  const annotations = state.deployedTag ? { "workers/tag": state.deployedTag } : {};
  console.log(JSON.stringify({ id: state.versionId, annotations }, null, 2));
} else if (args[0] === "deploy") {
  const missing = REQUIRED.filter((name) => !(name in state.secrets));
  if (missing.length) fail(`The following required secrets have not been set: ${missing.join(", ")}`);
  if (!state.dbExists) console.log(`🌀 Creating new D1 Database "${state.name}"...`);
  state.workerExists = true;
  state.dbExists = true;
  state.deployedTag = value("--tag") ?? null;
  state.versionId = `v-${state.deploys + 1}`;
  state.deploys += 1;
  state.deployedBundle = state.bundle;
  save();
  console.log(
    `Deployed ${state.name} triggers (0.42 sec)\n  ${state.url}\n  schedule: */5 * * * *\nCurrent Version ID: ${state.versionId}`,
  );
} else {
  fail(`fake wrangler: unexpected command ${args.join(" ")}`);
}
