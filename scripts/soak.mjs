#!/usr/bin/env node
// The soak (issue 22): `npm run soak -- --minutes 10`. Runs test/node/faults/soak.run.ts (3 gateway
// isolates in one workerd, the mixed workload, faults on and off at random) and prints its figures.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "10" } } });
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error("--minutes must be a positive number");
const root = resolve(import.meta.dirname, "..");
const run = spawnSync(
  resolve(root, "node_modules/.bin/vitest"),
  ["run", "--config", "vitest.soak.config.ts", "--reporter=default"],
  {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, SOAK_MINUTES: String(minutes), WRANGLER_SEND_METRICS: "false" },
  },
);
process.exit(run.status ?? 1);
