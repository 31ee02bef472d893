#!/usr/bin/env node
// npm run bench:ab -- --base <bundle.js> [--tenants 300 --rounds 20 --duration 1 --connections 32 --plans --profile]
// Two builds of the gateway side by side: `--base` (e.g. an earlier `wrangler deploy --dry-run --outdir`)
// and the current source (built as `npm run bench` does), with the bare proxy, in one runtime, on the
// same tenants (one D1), in many short runs alternated round by round. Prints the median over the rounds
// of each round's CPU difference: for changes of a few µs a request, which the bench's noise (a shared
// 2-core machine) would hide in a difference of means. --profile: also a CPU profile of each build's
// isolate over all its runs, and the functions whose self time per request differs most (build the
// base with `wrangler deploy --dry-run --minify=false --outdir <dir>` for readable names; the current
// source is then built unminified too).
import { copyFileSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { inspect, selfTimes, startProfile } from "./lib/inspect.mjs";
import { eachOnce, runLoad } from "./lib/load.mjs";
import { BENCH_PLAN, buildGateway, makeIdps, provisionTenants, root, startRuntime } from "./lib/setup.mjs";

const { values: args } = parseArgs({
  options: {
    base: { type: "string" },
    tenants: { type: "string", default: "300" },
    rounds: { type: "string", default: "20" },
    duration: { type: "string", default: "1" },
    connections: { type: "string", default: "32" },
    plans: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    top: { type: "string", default: "30" },
  },
});
if (!args.base) throw new Error("--base <bundle.js | baseline.ts> is required");
const log = (...a) => console.error("[ab]", ...a);
const connections = Number(args.connections);
const duration = Number(args.duration);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quartiles = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor(s.length / 4)], s[Math.floor((3 * s.length) / 4)]];
};

const INSPECTOR_PORT = 9331;
const bundle = await buildGateway(args.profile ? { minify: false } : {});
const idps = await makeIdps();
// workerd reads scripts from under its working directory only.
mkdirSync(resolve(root, ".wrangler/bench-ab"), { recursive: true });
const base = resolve(root, ".wrangler/bench-ab/base.js");
if (args.base.endsWith(".ts")) {
  // A baseline written against the gateway's own modules (bench/workers/bare-policy.ts): bundled here.
  await build({
    entryPoints: [resolve(args.base)],
    outfile: base,
    bundle: true,
    format: "esm",
    platform: "neutral",
    external: ["cloudflare:*", "node:*"],
    logLevel: "warning",
  });
} else copyFileSync(args.base, base);
const shared = args.profile ? { inspectorPort: INSPECTOR_PORT } : {};
const rt = await startRuntime(bundle.script, idps.remoteJwks, shared, { gateways: { base } });
try {
  const n = Number(args.tenants);
  const tokens = (await provisionTenants(rt.mf, idps, n, 0, args.plans ? BENCH_PLAN : null)).map((t) => t.token);
  const targets = { bare: rt.bare, base: rt.gateways.base, current: rt.gateway };
  log(`warming ${n} tenants${args.plans ? " with plans" : ""} in both builds`);
  for (const url of [targets.base, targets.current]) await eachOnce(url, tokens, 16);
  for (const url of Object.values(targets)) await runLoad({ url, tokens, connections, duration: 2 });
  const cpu = { bare: [], base: [], current: [] };
  const requests = { bare: 0, base: 0, current: 0 };
  const profilers = {};
  if (args.profile) {
    for (const [name, worker] of [
      ["bare", "bare"],
      ["base", "base"],
      ["current", "gateway"],
    ]) {
      profilers[name] = await startProfile(await inspect(INSPECTOR_PORT, worker));
    }
  }
  const names = Object.keys(targets);
  for (let r = 0; r < Number(args.rounds); r++) {
    // Rotate the order: each name runs first, second and last equally often.
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const name of order) {
      const run = await runLoad({ url: targets[name], tokens, connections, duration });
      if (run.non2xx || run.errors) throw new Error(`${name}: ${run.non2xx} non-2xx, ${run.errors} errors`);
      cpu[name].push(run.cpuUsPerRequest);
      requests[name] += run.requests;
    }
    log(`round ${r + 1}: ${names.map((k) => `${k} ${cpu[k].at(-1).toFixed(0)}`).join(", ")}`);
  }
  const diff = (a, b) => cpu[a].map((x, i) => x - cpu[b][i]);
  for (const [a, b] of [
    ["base", "bare"],
    ["current", "bare"],
    ["current", "base"],
  ]) {
    const d = diff(a, b);
    const [q1, q3] = quartiles(d);
    console.log(
      `${`${a} - ${b}`.padEnd(16)} median ${median(d).toFixed(1).padStart(7)} µs/req  (quartiles ${q1.toFixed(1)} .. ${q3.toFixed(1)}, ${d.length} rounds)`,
    );
  }
  console.log(`medians: ${names.map((k) => `${k} ${median(cpu[k]).toFixed(0)} µs`).join(", ")}`);
  if (args.profile) {
    const self = {};
    for (const name of names) {
      const { functions } = selfTimes(await profilers[name].stop());
      // Line numbers and file names differ between builds: functions by name only.
      self[name] = new Map();
      for (const [key, us] of functions) {
        const fn = key.replace(/ [^ ]*:\d+$/, "").replace(/ \(native\)$/, "");
        self[name].set(fn, (self[name].get(fn) ?? 0) + us / requests[name]);
      }
    }
    const keys = new Set(names.flatMap((name) => [...self[name].keys()]));
    const rows = [...keys]
      .filter((k) => k !== "(idle)")
      .map((k) => [k, ...names.map((name) => self[name].get(k) ?? 0)])
      .sort((a, b) => Math.max(...b.slice(1)) - Math.max(...a.slice(1)));
    const total = (name) => [...self[name]].reduce((s, [k, us]) => s + (k === "(idle)" ? 0 : us), 0);
    console.log("\nself time, µs per request (sampled wall time of each isolate, not idle)");
    console.log(`${names.map((n) => n.padStart(8)).join(" ")}  function`);
    for (const [k, ...us] of rows.slice(0, Number(args.top)))
      console.log(`${us.map((x) => x.toFixed(2).padStart(8)).join(" ")}  ${k}`);
    console.log(`${names.map((n) => total(n).toFixed(2).padStart(8)).join(" ")}  (all, not idle)`);
  }
} finally {
  await rt.mf.dispose();
}
