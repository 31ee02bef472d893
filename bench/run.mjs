#!/usr/bin/env node
// npm run bench [-- --tenants 1000 --duration 3 --connections 32 --rounds 6 --json out.json --quick --no-scale --no-plans
//                   --no-relay --relay-senders 100 --relay-events 2000 --rate 0 --scale-duration 8 --bundle <index.js>]
// One runtime, N tenants without a plan and N with BENCH_PLAN (far from each limit), runs alternated
// round by round (mainSession says why in two phases): the bare proxy, the gateway with the tenants
// without a plan, and the gateway with LOG_SAMPLE_RATE 1 and 0 (what a log line costs); then the bare
// proxy, the bare proxy plus 8 calls to the Rate Limiting stand-in a request (bench/workers/ratelimit.mjs:
// its own cost, taken off the gateway's figure with plans) and the gateway with the tenants with a plan.
// The gateway runs with wrangler.toml's [env.production.vars]. Then the scale sessions (100 vs 10,000 tenants with
// plans, a runtime each) and the relay (bench/lib/relay.mjs). Prints a table and issue 21's six figures
// against their targets; --json holds them (ratios.addedCpuUsPerRequest, ratios.addedCpuUsPerRequestWithPlan,
// scale.throughputRatio10k, scale.awaitedLedgerCallsPerSend10k, startup.ratio, bundle.gzipKiB).
// --no-plans: no tenants with plans (no plan runs; scale and relay tenants without plans too).
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { unwrap } from "@zavu-gateway/admin-client";
import { eachOnce, percentile, runLoad } from "./lib/load.mjs";
import { relayScenario } from "./lib/relay.mjs";
import {
  adminClient,
  BENCH_PLAN,
  buildGateway,
  makeIdps,
  measureStartup,
  productionVars,
  provisionStrictTenant,
  provisionTenants,
  RATE_LIMIT_PROBE_CALLS,
  root,
  startRuntime,
} from "./lib/setup.mjs";

const { values: args } = parseArgs({
  options: {
    tenants: { type: "string", default: "1000" },
    duration: { type: "string", default: "3" },
    "scale-duration": { type: "string", default: "8" },
    connections: { type: "string", default: "32" },
    rate: { type: "string", default: "0" },
    rounds: { type: "string", default: "6" },
    json: { type: "string" },
    quick: { type: "boolean", default: false },
    "no-scale": { type: "boolean", default: false },
    "no-plans": { type: "boolean", default: false },
    "no-relay": { type: "boolean", default: false },
    "relay-senders": { type: "string", default: "100" },
    "relay-events": { type: "string", default: "2000" },
    /** Another build of the gateway (a saved `wrangler deploy --dry-run --outdir` bundle): figures for an earlier commit. */
    bundle: { type: "string" },
  },
});
const quick = args.quick;
const N = quick ? 200 : Number(args.tenants);
const duration = quick ? 2 : Number(args.duration);
const scaleDuration = Number(args["scale-duration"]);
const connections = Number(args.connections);
const rate = Number(args.rate);
const rounds = quick ? 2 : Number(args.rounds);
const COLD = quick ? 20 : 50;
const log = (...a) => console.error("[bench]", ...a);

async function stats(gateway) {
  return unwrap(adminClient(gateway).GET("/stats"));
}

async function adminListing(gateway, cursorAfterId) {
  const admin = adminClient(gateway);
  const times = { firstPage: [], deepPage: [] };
  const cursor = Buffer.from(cursorAfterId).toString("base64").replace(/=+$/, "");
  for (let i = 0; i < 20; i++) {
    for (const [name, query] of [
      ["firstPage", { limit: 100 }],
      ["deepPage", { limit: 100, cursor }],
    ]) {
      const started = performance.now();
      await unwrap(admin.GET("/tenants", { params: { query } }));
      times[name].push(performance.now() - started);
    }
  }
  return { firstPageMs: percentile(times.firstPage, 50), deepPageMs: percentile(times.deepPage, 50) };
}

/** Counters (GET /admin/v1/stats) moved by `work`, with its result. */
async function counted(gateway, work) {
  const before = (await stats(gateway)).counters;
  const result = await work();
  const after = (await stats(gateway)).counters;
  return { result, counts: Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]])) };
}

/**
 * The main session: one runtime, two populations of tenants (N without a plan, N with BENCH_PLAN), and
 * runs alternated round by round over the same runtime, in two phases:
 * 1. before any tenant with a plan has sent: the bare proxy; the gateway with the tenants without a
 *    plan; the same gateway with LOG_SAMPLE_RATE 1 and 0 (what a log line costs);
 * 2. then: the bare proxy; the bare proxy plus RATE_LIMIT_PROBE_CALLS Rate Limiting stand-in calls a
 *    request (the stand-in's own cost); the gateway with the tenants with a plan.
 * Two phases, because a plan's daily-quota leases are renewed and handed back by the gateway in the
 * background, up to a lease's life (30 s) after the sends that took them: in phase 1 that work would land
 * in the bare proxy's runs, and make the gateway without plans look cheaper than it is. (In phase 2 it
 * does land in the bare proxy's runs: counted and printed, as `mainGatewayLedgerCallsDuringOtherRuns`.)
 * The gateway runs with the production vars (wrangler.toml [env.production.vars]).
 */
async function mainSession(script, idps, n, cold) {
  const plans = !args["no-plans"];
  const rt = await startRuntime(script, idps.remoteJwks, {}, { variants: true });
  try {
    log(`provisioning ${n} tenants without a plan${plans ? `, ${n + cold} with one` : `, ${cold} more`}`);
    const noPlan = await provisionTenants(rt.mf, idps, n + (plans ? 0 : cold), 0, null);
    const withPlan = plans ? await provisionTenants(rt.mf, idps, n + cold, noPlan.length, BENCH_PLAN) : [];
    const hot = noPlan.slice(0, n).map((t) => t.token);
    const hotPlan = withPlan.slice(0, n).map((t) => t.token);
    const coldTokens = (plans ? withPlan : noPlan).slice(n).map((t) => t.token);
    const runs = {};
    const phase = async (label, scenarios) => {
      for (const s of scenarios) {
        runs[s.name] = [];
        await runLoad({ url: s.url, tokens: s.tokens, connections, duration: 1 });
      }
      for (let r = 0; r < rounds; r++) {
        // Every other round in reverse order: a drift in the machine's load weighs on every scenario alike.
        for (const s of r % 2 === 0 ? scenarios : [...scenarios].reverse()) {
          log(`${label}, round ${r + 1}: ${s.name}`);
          const linesBefore = rt.logs.requestLines;
          // The main gateway's counters over every run: its own work in its runs, and in the others' what
          // it did in the background meanwhile (the plan tenants' lease renewals and hand-backs).
          const { result: run, counts } = await counted(rt.gateway, () =>
            runLoad({ url: s.url, tokens: s.tokens, connections, duration, rate }),
          );
          await new Promise((ok) => setTimeout(ok, 200)); // the run's last log lines arrive
          run.requestLogLines = rt.logs.requestLines - linesBefore;
          if (s.stats) run.counts = counts;
          else run.mainGatewayCounts = counts;
          runs[s.name].push(run);
        }
      }
    };
    log(`warming ${n} tenants without a plan in each gateway Worker`);
    for (const url of [rt.gateway, rt.logged, rt.unlogged]) await eachOnce(url, hot, 16);
    await phase("tenants without a plan", [
      { name: "bare", url: rt.bare, tokens: hot },
      { name: "gateway", url: rt.gateway, tokens: hot, stats: true },
      { name: "logged", url: rt.logged, tokens: hot },
      { name: "unlogged", url: rt.unlogged, tokens: hot },
    ]);
    if (plans) {
      log(`warming ${n} tenants with a plan`);
      for (const url of [rt.gateway, rt.planNoRateLimit]) await eachOnce(url, hotPlan, 16);
      await phase("tenants with a plan", [
        { name: "barePlanPhase", url: rt.bare, tokens: hot },
        { name: "bareRateLimited", url: rt.bareRateLimited, tokens: hot },
        { name: "gatewayWithPlan", url: rt.gateway, tokens: hotPlan, stats: true },
        { name: "gatewayPlanNoRateLimit", url: rt.planNoRateLimit, tokens: hotPlan },
      ]);
    }
    let coldPath = null;
    if (cold > 0) {
      const latencies = [];
      const { counts } = await counted(rt.gateway, () =>
        eachOnce(rt.gateway, coldTokens, 1, (ms) => latencies.push(ms)),
      );
      coldPath = {
        tenants: cold,
        plan: plans,
        p50: +percentile(latencies, 50).toFixed(2),
        p99: +percentile(latencies, 99).toFixed(2),
        perRequest: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, +(v / cold).toFixed(2)])),
      };
    }
    const zones = await spendZones(rt, idps, (plans ? hotPlan : hot)[0]);
    const all = [...noPlan, ...withPlan];
    const listing = await adminListing(rt.gateway, all[Math.floor(all.length * 0.9)].id);
    const isolate = await stats(rt.gateway);
    return { runs, coldPath, listing, caches: isolate.caches, zones };
  } finally {
    await rt.mf.dispose();
  }
}

/** A gateway alone with n warm tenants (BENCH_PLAN unless --no-plans): the scale figures. */
async function scaleSession(script, idps, n) {
  const rt = await startRuntime(script, idps.remoteJwks);
  try {
    log(`provisioning ${n} tenants`);
    const tokens = (await provisionTenants(rt.mf, idps, n, 0, args["no-plans"] ? null : BENCH_PLAN)).map(
      (t) => t.token,
    );
    log(`warming ${n} tenants`);
    await eachOnce(rt.gateway, tokens, 16);
    log(`gateway (${n} tenants)`);
    const { result: run, counts } = await counted(rt.gateway, () =>
      runLoad({ url: rt.gateway, tokens, connections, duration: scaleDuration }),
    );
    run.counts = counts;
    const listing = await adminListing(rt.gateway, `tnt_bench${String(Math.floor(n * 0.9)).padStart(21, "0")}`);
    return { runs: [run], listing, caches: (await stats(rt.gateway)).caches };
  } finally {
    await rt.mf.dispose();
  }
}

/**
 * The strict zone's cost, in latency: sequential sends of one tenant far from every limit against one
 * whose ledger stays in the strict zone (each send reserves its cost through the ledger's Durable
 * Object, and its answer is read for the exact cost). The strict tenant's Zavu always reports 12 cents
 * of headroom; once the gateway has admitted them it waits for Zavu's next figures (402 meanwhile),
 * which is what a budget that close to its end means: only admitted sends are timed.
 */
async function spendZones(rt, idps, farToken) {
  const strictToken = await provisionStrictTenant(rt.gateway, idps);
  const sends = quick ? 100 : 300;
  const measure = async (token) => {
    const latencies = [];
    let refused = 0;
    const before = (await stats(rt.gateway)).counters;
    while (latencies.length < sends) {
      const started = performance.now();
      const res = await fetch(`${rt.gateway}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ to: "+15551234567", text: "bench" }),
      });
      await res.arrayBuffer();
      if (res.status === 202) latencies.push(performance.now() - started);
      else if (res.status === 402) {
        refused++;
        await new Promise((r) => setTimeout(r, 300));
      } else throw new Error(`spend-zone send answered ${res.status}`);
    }
    const after = (await stats(rt.gateway)).counters;
    return {
      sends,
      refusedWhileWaitingForZavu: refused,
      p50: +percentile(latencies, 50).toFixed(2),
      p99: +percentile(latencies, 99).toFixed(2),
      ledgerCallsPerSend: +((after.ledgerCalls - before.ledgerCalls) / sends).toFixed(3),
    };
  };
  log("spend zones: far from every limit, then the strict zone (sequential sends)");
  await measure(farToken);
  await measure(strictToken); // warm both paths once
  return { far: await measure(farToken), strict: await measure(strictToken) };
}

const f = (x, d = 1) => (typeof x === "number" ? x.toFixed(d) : String(x));
/** A difference, signed: +12, -3. */
const signed = (x, d = 0) => (typeof x === "number" ? `${x >= 0 ? "+" : ""}${x.toFixed(d)}` : String(x));

/** Work counted over every gateway round, per request (background refreshes included). */
function perRequest(runs) {
  const total = runs.reduce((n, r) => n + r.requests, 0);
  return Object.fromEntries(
    Object.keys(runs[0].counts).map((k) => [k, +(runs.reduce((n, r) => n + r.counts[k], 0) / total).toFixed(4)]),
  );
}
const mean = (runs, key) => runs.reduce((s, r) => s + r[key], 0) / runs.length;
const summary = (runs) =>
  runs?.length
    ? {
        cpuUsPerRequest: mean(runs, "cpuUsPerRequest"),
        rps: mean(runs, "rps"),
        p50: mean(runs, "p50"),
        p99: mean(runs, "p99"),
        p999: mean(runs, "p999"),
        non2xx: runs.reduce((s, r) => s + r.non2xx + r.errors, 0),
        requestLogLinesPerRequest: +(
          runs.reduce((s, r) => s + r.requestLogLines, 0) / runs.reduce((s, r) => s + r.requests, 0)
        ).toFixed(4),
      }
    : null;

log("building the gateway bundle (wrangler deploy --dry-run)");
const bundle = await buildGateway();
if (args.bundle) {
  // workerd reads scripts from under its working directory only.
  const copy = resolve(root, ".wrangler/bench-build/other.js");
  copyFileSync(args.bundle, copy);
  const bytes = readFileSync(copy);
  Object.assign(bundle, { script: copy, rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length });
  log(`measuring ${args.bundle}, not the current source`);
}
log("measuring start-up");
const startup = await measureStartup(bundle.script);
startup.ratio = startup.gatewayMs / startup.trivialMs;
// Against a trivial Worker with the same bindings: what the gateway's script costs, without Miniflare's set-up of them.
startup.ratioSameBindings = startup.gatewayMs / startup.trivialWithBindingsMs;
const idps = await makeIdps();
const gatewayVars = productionVars();

const main = await mainSession(bundle.script, idps, N, COLD);
const bare = summary(main.runs.bare);
const barePlanPhase = summary(main.runs.barePlanPhase);
const gw = summary(main.runs.gateway);
const bareRl = summary(main.runs.bareRateLimited);
const gwPlan = summary(main.runs.gatewayWithPlan);
const logged = summary(main.runs.logged);
const unlogged = summary(main.runs.unlogged);
const gatewayPerRequest = perRequest(main.runs.gateway);
const gatewayWithPlanPerRequest = gwPlan ? perRequest(main.runs.gatewayWithPlan) : null;

let scale = null;
if (!quick && !args["no-scale"]) {
  const small = await scaleSession(bundle.script, idps, 100);
  const large = await scaleSession(bundle.script, idps, 10_000);
  const s = summary(small.runs);
  const l = summary(large.runs);
  const largePerRequest = perRequest(large.runs);
  scale = {
    plan: args["no-plans"] ? null : BENCH_PLAN,
    throughputRatio10k: l.rps / s.rps,
    awaitedLedgerCallsPerSend10k: largePerRequest.ledgerCalls, // every request of the run is a send
    tenants100: { ...s, perRequest: perRequest(small.runs) },
    tenants10000: { ...l, perRequest: largePerRequest },
    rpsRatio: l.rps / s.rps,
    cpuRatio: l.cpuUsPerRequest / s.cpuUsPerRequest,
    p99Delta: l.p99 - s.p99,
    listing100: small.listing,
    listing10000: large.listing,
    caches10000: large.caches,
  };
}

const relay = args["no-relay"]
  ? null
  : await relayScenario(bundle.script, idps, {
      senders: Number(args["relay-senders"]),
      events: quick ? 500 : Number(args["relay-events"]),
      concurrency: connections,
      plan: args["no-plans"] ? null : BENCH_PLAN,
      log,
    });

/**
 * The added CPU figures are medians over the rounds of each round's difference (scenarios of one round
 * ran back to back): steadier than a difference of means when the machine's other load comes and goes.
 */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const byRound = (fn) => median(main.runs.bare.map((_, r) => fn((name) => main.runs[name][r])));
/** The same in the plan phase, whose bare proxy runs are its own. */
const byPlanRound = (fn) =>
  median(main.runs.barePlanPhase.map((_, r) => fn((name) => main.runs[name === "bare" ? "barePlanPhase" : name][r])));
const cpu = (run) => run.cpuUsPerRequest;
const standIn = bareRl
  ? byPlanRound((at) => (cpu(at("bareRateLimited")) - cpu(at("bare"))) / RATE_LIMIT_PROBE_CALLS)
  : null;
const rlCalls = gatewayWithPlanPerRequest?.rateLimitChecks ?? null;
const ratios = {
  throughput: gw.rps / bare.rps,
  cpuPerRequest: gw.cpuUsPerRequest / bare.cpuUsPerRequest,
  addedCpuUsPerRequest: byRound((at) => cpu(at("gateway")) - cpu(at("bare"))),
  addedP50Ms: gw.p50 - bare.p50,
  addedP99Ms: gw.p99 - bare.p99,
  throughputWithPlan: gwPlan ? gwPlan.rps / barePlanPhase.rps : null,
  /** The gateway with plans over the bare proxy, less its calls to the stand-in (each at that round's cost). */
  addedCpuUsPerRequestWithPlan: gwPlan
    ? byPlanRound((at) => {
        const run = at("gatewayWithPlan");
        const calls = run.counts.rateLimitChecks / run.requests;
        const perCall = (cpu(at("bareRateLimited")) - cpu(at("bare"))) / RATE_LIMIT_PROBE_CALLS;
        return cpu(run) - cpu(at("bare")) - calls * perCall;
      })
    : null,
  /** The same Worker without Rate Limiting bindings: the plan's work (quota, limits) with no rate-limit call at all. */
  addedCpuUsPerRequestWithPlanNoRateLimitCall: main.runs.gatewayPlanNoRateLimit
    ? byPlanRound((at) => cpu(at("gatewayPlanNoRateLimit")) - cpu(at("bare")))
    : null,
  /** The same, the stand-in's calls included. */
  addedCpuUsPerRequestWithPlanAndStandIn: gwPlan
    ? byPlanRound((at) => cpu(at("gatewayWithPlan")) - cpu(at("bare")))
    : null,
  /** One call to the Rate Limiting stand-in (bench/workers/ratelimit.mjs): bare-ratelimited over bare, per call. */
  rateLimitStandInCpuUsPerCall: standIn,
  rateLimitCallsPerRequestWithPlan: rlCalls,
};
/** Background ledger calls of the main gateway per request of other Workers' runs (the plan tenants' leases). */
const spill = Object.fromEntries(
  ["bare", "logged", "unlogged", "barePlanPhase", "bareRateLimited"]
    .filter((name) => main.runs[name])
    .map((name) => {
      const runs = main.runs[name];
      const calls = runs.reduce(
        (n, r) => n + r.mainGatewayCounts.ledgerCalls + r.mainGatewayCounts.ledgerCallsBackground,
        0,
      );
      return [name, +(calls / runs.reduce((n, r) => n + r.requests, 0)).toFixed(4)];
    }),
);
const logging = {
  productionSampleRate: Number(gatewayVars.LOG_SAMPLE_RATE),
  /** The gateway with LOG_SAMPLE_RATE 1 (every request logged) and 0 (only refusals, errors, slow ones). */
  loggedCpuUsPerRequest: logged.cpuUsPerRequest,
  unloggedCpuUsPerRequest: unlogged.cpuUsPerRequest,
  addedCpuUsPerLoggedRequest: byRound((at) => cpu(at("logged")) - cpu(at("unlogged"))),
  requestLinesPerRequest: {
    logged: logged.requestLogLinesPerRequest,
    unlogged: unlogged.requestLogLinesPerRequest,
    production: gw.requestLogLinesPerRequest,
  },
};
const startupRatio = startup.ratio;
const bundleFigures = { rawKiB: +(bundle.rawBytes / 1024).toFixed(1), gzipKiB: +(bundle.gzipBytes / 1024).toFixed(1) };
/** Issue 21's six figures and their targets. */
const targets = [
  [
    "hot path, no plans",
    "ratios.addedCpuUsPerRequest",
    ratios.addedCpuUsPerRequest,
    "<=",
    40,
    (v) => `+${v.toFixed(0)} µs`,
  ],
  [
    "with a plan",
    "ratios.addedCpuUsPerRequestWithPlan",
    ratios.addedCpuUsPerRequestWithPlan,
    "<=",
    60,
    (v) => `+${v.toFixed(0)} µs`,
  ],
  [
    "awaited ledger calls/send at 10k",
    "scale.awaitedLedgerCallsPerSend10k",
    scale?.awaitedLedgerCallsPerSend10k,
    "<=",
    0.05,
    (v) => v.toFixed(3),
  ],
  ["throughput 10k/100", "scale.throughputRatio10k", scale?.throughputRatio10k, ">=", 0.8, (v) => v.toFixed(2)],
  ["start-up vs trivial", "startup.ratio", startupRatio, "<=", 1.3, (v) => `${v.toFixed(2)}x`],
  ["bundle gzipped", "bundle.gzipKiB", bundleFigures.gzipKiB, "<=", 180, (v) => `${v.toFixed(1)} KiB`],
].map(([name, key, value, op, target, show]) => ({
  name,
  key,
  value: value ?? null,
  target: `${op} ${target}`,
  met: value === null || value === undefined ? null : op === "<=" ? value <= target : value >= target,
  shown: value === null || value === undefined ? "skipped" : show(value),
}));

const report = {
  at: new Date().toISOString(),
  machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
  settings: {
    bundle: args.bundle ?? "current source",
    tenants: N,
    duration,
    connections,
    rounds,
    request: "POST /v1/messages",
    plan: args["no-plans"] ? null : BENCH_PLAN,
    gatewayVars: {
      LOG_SAMPLE_RATE: gatewayVars.LOG_SAMPLE_RATE,
      LOG_SLOW_MS: gatewayVars.LOG_SLOW_MS,
      USAGE_EXACT: gatewayVars.USAGE_EXACT,
    },
  },
  bare,
  barePlanPhase,
  bareWithRateLimitCalls: bareRl,
  gateway: gw,
  gatewayWithPlan: gwPlan,
  ratios,
  logging,
  gatewayPerRequest,
  gatewayWithPlanPerRequest,
  /** Ledger calls the main gateway made (in the background) during the other Workers' runs, per request of those runs. */
  mainGatewayLedgerCallsDuringOtherRuns: spill,
  coldPath: main.coldPath,
  spendZones: main.zones,
  adminListing: main.listing,
  caches: main.caches,
  scale,
  relay,
  bundle: bundleFigures,
  startup,
  targets: targets.map(({ shown: _shown, ...t }) => t),
  rounds: main.runs,
};

const row = (name, s) =>
  s
    ? `| ${name.padEnd(30)} | ${f(s.cpuUsPerRequest, 0).padStart(10)} | ${f(s.rps, 0).padStart(7)} | ${f(s.p50).padStart(6)} | ${f(s.p99).padStart(6)} | ${f(s.p999).padStart(7)} |`
    : null;
const lines = [
  `Zavu gateway benchmark: ${N} tenants without a plan${gwPlan ? ` and ${N} with one` : ""} (ES256 via JWKS URI / RS256 inline), POST /v1/messages, ${connections} connections, ${rounds} x ${duration}s alternating; gateway vars as [env.production.vars] (LOG_SAMPLE_RATE ${gatewayVars.LOG_SAMPLE_RATE})`,
  "",
  "| workerd, direct sockets        | CPU µs/req | req/s   | p50 ms | p99 ms | p99.9 ms |",
  "|---|---|---|---|---|---|",
  row("bare proxy", bare),
  row("gateway, no plans", gw),
  row("gateway, LOG_SAMPLE_RATE 1", logged),
  row("gateway, LOG_SAMPLE_RATE 0", unlogged),
  gwPlan ? "| then, tenants with a plan: | | | | | |" : null,
  row("bare proxy", barePlanPhase),
  row(`bare + ${RATE_LIMIT_PROBE_CALLS} rate-limit stand-in`, bareRl),
  row("gateway, plans", gwPlan),
  row("gateway, plans, no RL binding", summary(main.runs.gatewayPlanNoRateLimit)),
  "",
  "(added CPU: the median over the rounds of each round's difference; the table: means)",
  `no plans: gateway/bare throughput ${f(ratios.throughput, 3)}, CPU per request ${f(ratios.cpuPerRequest, 3)}x (${signed(ratios.addedCpuUsPerRequest)} µs), added latency p50 ${f(ratios.addedP50Ms, 2)} ms, p99 ${f(ratios.addedP99Ms, 2)} ms`,
  gwPlan
    ? `plans: ${signed(ratios.addedCpuUsPerRequestWithPlan)} µs over the bare proxy without the rate-limit stand-in (${f(rlCalls, 3)} calls/request at ${f(standIn, 0)} µs each, measured as bare + ${RATE_LIMIT_PROBE_CALLS} calls a request; ${signed(ratios.addedCpuUsPerRequestWithPlanAndStandIn)} µs with it; ${signed(ratios.addedCpuUsPerRequestWithPlanNoRateLimitCall)} µs with no rate-limit call at all, the same Worker without the bindings), throughput ${f(ratios.throughputWithPlan, 3)}x the bare proxy; awaited ledger calls per request ${f(gatewayWithPlanPerRequest.ledgerCalls, 3)}, in the background ${f(gatewayWithPlanPerRequest.ledgerCallsBackground, 3)}, and during the other Workers' runs ${JSON.stringify(spill)}`
    : "plans: skipped (--no-plans)",
  `logging: a logged request ${f(logging.loggedCpuUsPerRequest, 0)} µs, an unlogged one ${f(logging.unloggedCpuUsPerRequest, 0)} µs (${signed(logging.addedCpuUsPerLoggedRequest)} µs a line; request lines per request ${logging.requestLinesPerRequest.logged} vs ${logging.requestLinesPerRequest.unlogged}; at the production rate ${gatewayVars.LOG_SAMPLE_RATE}: ${logging.requestLinesPerRequest.production})`,
  `failed requests: ${Object.entries({ bare, gw, logged, unlogged, barePlanPhase, bareRl, gwPlan })
    .filter(([, s]) => s)
    .map(([k, s]) => `${k} ${s.non2xx}`)
    .join(", ")}`,
  `hot path per request, no plans: ${JSON.stringify(gatewayPerRequest)}`,
  gatewayWithPlanPerRequest ? `hot path per request, plans: ${JSON.stringify(gatewayWithPlanPerRequest)}` : null,
  main.coldPath
    ? `cold path (${main.coldPath.tenants} never-seen tenants${main.coldPath.plan ? " with a plan" : ""}, sequential): p50 ${main.coldPath.p50} ms, p99 ${main.coldPath.p99} ms; per request ${JSON.stringify(main.coldPath.perRequest)}`
    : null,
  main.zones
    ? `spend zones, ${main.zones.far.sends} sequential sends each: far from every limit p50 ${main.zones.far.p50} ms, p99 ${main.zones.far.p99} ms (ledger calls awaited per send ${main.zones.far.ledgerCallsPerSend}); strict zone p50 ${main.zones.strict.p50} ms, p99 ${main.zones.strict.p99} ms (ledger calls awaited per send ${main.zones.strict.ledgerCallsPerSend}; the strict zone adds ${(main.zones.strict.p50 - main.zones.far.p50).toFixed(2)} ms at p50)`
    : null,
  `admin listing (limit=100, ${N * (gwPlan ? 2 : 1) + COLD} tenants): first page ${f(main.listing.firstPageMs, 2)} ms, page at 90% ${f(main.listing.deepPageMs, 2)} ms`,
  `isolate caches at the end: ${Object.entries(main.caches)
    .map(([k, v]) => `${k} ${v.size}/${v.max}`)
    .join(", ")}`,
  scale
    ? `scale${scale.plan ? " (every tenant with BENCH_PLAN)" : ""}: gateway at 100 tenants ${f(scale.tenants100.rps, 0)} req/s p99 ${f(scale.tenants100.p99)} ms; at 10,000 tenants ${f(scale.tenants10000.rps, 0)} req/s p99 ${f(scale.tenants10000.p99)} ms (throughput ratio ${f(scale.throughputRatio10k, 3)}, CPU/request ${f(scale.tenants100.cpuUsPerRequest, 0)} vs ${f(scale.tenants10000.cpuUsPerRequest, 0)} µs, ratio ${f(scale.cpuRatio, 3)}; awaited ledger calls per send ${f(scale.awaitedLedgerCallsPerSend10k, 4)}); work per request at 10,000: ${JSON.stringify(scale.tenants10000.perRequest)}; listing first/deep page at 10,000: ${f(scale.listing10000.firstPageMs, 2)}/${f(scale.listing10000.deepPageMs, 2)} ms vs ${f(scale.listing100.firstPageMs, 2)}/${f(scale.listing100.deepPageMs, 2)} ms at 100`
    : "scale: skipped",
  ...relayLines(relay),
  `bundle: ${bundleFigures.rawKiB} KiB raw, ${bundleFigures.gzipKiB} KiB gzipped; start-up to first answer: gateway ${f(startup.gatewayMs, 0)} ms vs trivial Worker ${f(startup.trivialMs, 0)} ms (${f(startup.ratio, 2)}x; script cost ~${f(startup.scriptStartupMs, 0)} ms); a trivial Worker with the gateway's bindings ${f(startup.trivialWithBindingsMs, 0)} ms (the gateway's script over it ~${f(startup.scriptOverBindingsMs, 0)} ms, ${f(startup.ratioSameBindings, 2)}x)`,
  "",
  `issue 21 targets: ${targets
    .map(
      (t) =>
        `${t.name} ${t.shown} (${t.target.replace("<=", "≤").replace(">=", "≥")}) ${t.met === null ? "-" : t.met ? "met" : "NOT MET"}`,
    )
    .join("; ")}`,
];
function relayLines(r) {
  if (!r) return ["relay: skipped"];
  const t = r.throughput;
  const e = r.endToEnd;
  return [
    "",
    `Relay: Zavu's signed events (message.delivered, v2) to POST /relay/zavu/{relayId}, ${r.senders} senders (one per tenant), delivered by each tenant's TenantEvents to ${r.webhookUrl} (the stub, instant)`,
    "",
    "| relay, workerd                 | CPU µs/event | events/s | p50 ms | p99 ms |",
    "|---|---|---|---|---|",
    `| ${`${t.events} events, ${t.concurrency} at a time`.padEnd(30)} | ${f(t.cpuUsPerEvent, 0).padStart(12)} | ${f(t.answeredPerSec, 0).padStart(8)} | ${f(t.p50, 2).padStart(6)} | ${f(t.p99, 2).padStart(6)} |`,
    `| ${`${e.events} events, one at a time`.padEnd(30)} | ${"".padStart(12)} | ${"".padStart(8)} | ${f(e.answerP50, 2).padStart(6)} | ${f(e.answerP99, 2).padStart(6)} |`,
    "",
    `relay CPU per event includes its delivery (workerd CPU from the first POST until the customer had every event); events/s answered, ${t.deliveredPerSec} delivered/s counting until the last delivery (${f(t.lastDeliveryAfterLastAnswerMs, 0)} ms after the last answer); gateway isolate per event ${JSON.stringify(t.gatewayIsolatePerEvent)}`,
    `relay end to end (Zavu's POST -> the customer's receipt, ${e.events} events one at a time, 1 ms clock): p50 ${f(e.p50, 2)} ms, p99 ${f(e.p99, 2)} ms`,
    `relay duplicates: ${r.duplicates.events} events posted twice, ${r.duplicates.deliveredOnce} delivered exactly once; all events: ${r.deliveredExactlyOnce} of ${r.eventsSent} delivered exactly once, correctly signed${r.valid ? "" : `; RELAY FIGURES INVALID: ${r.problems.join("; ")}`}`,
    "",
  ];
}
console.log(lines.filter((l) => l !== null).join("\n"));
if (args.json) {
  writeFileSync(args.json, JSON.stringify(report, null, 2));
  log(`wrote ${args.json}`);
}
const failed = [bare, gw, logged, unlogged, barePlanPhase, bareRl, gwPlan].some((s) => s && s.non2xx > 0);
if (failed) {
  log("some requests failed: the figures are not valid");
  process.exitCode = 1;
}
if (relay && !relay.valid) {
  log(`the relay figures are not valid: ${relay.problems.join("; ")}`);
  process.exitCode = 1;
}
