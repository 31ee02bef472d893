#!/usr/bin/env node
// npm run client:generate: rewrites the typed admin client's types (clients/admin/src/schema.d.ts) from
// /admin/v1/openapi.json as the gateway serves it: the bundle `wrangler deploy` would upload, run in
// workerd. Run it after changing an admin route or schema, and commit the file; a test
// (test/node/admin-api/) fails while it is stale.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { ADMIN_CLIENT_SCHEMA, adminClientTypes, servedAdminDocument } from "./lib/admin-openapi.mjs";

const root = resolve(import.meta.dirname, "..");
const out = resolve(root, ".wrangler/client-build");
const build = spawnSync(resolve(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out], {
  cwd: root,
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  encoding: "utf8",
});
if (build.status !== 0) {
  console.error(`wrangler deploy --dry-run failed:\n${build.stdout}\n${build.stderr}`);
  process.exit(1);
}

const document = await servedAdminDocument(resolve(out, "index.js"));
const types = await adminClientTypes(document);
let before = "";
try {
  before = readFileSync(ADMIN_CLIENT_SCHEMA, "utf8");
} catch {}
const name = relative(root, ADMIN_CLIENT_SCHEMA);
if (types === before) {
  console.log(`${name}: up to date (${Object.keys(document.paths).length} paths)`);
} else {
  writeFileSync(ADMIN_CLIENT_SCHEMA, types);
  console.log(`${name}: rewritten (${Object.keys(document.paths).length} paths); commit it`);
}
