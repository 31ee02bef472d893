#!/usr/bin/env node
// npm run bench [-- --tenants 1000 --duration 8 --connections 32 --rounds 2 --json out.json --quick --no-scale --no-plans
//                   --no-relay --relay-senders 100 --relay-events 2000]
// Gateway vs a bare proxy, same runtime, same upstream stub, alternating runs. Prints a table.
// Then the relay (Zavu's events to the customer's URL) in a runtime of its own: bench/lib/relay.mjs.
// Every tenant has a plan (BENCH_PLAN, far from each limit) unless --no-plans; its rate limit goes
// through a stand-in for the Rate Limiting binding (bench/workers/ratelimit.mjs says what it costs).
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { unwrap } from "@zavu-gateway/admin-client";
import { eachOnce, percentile, runLoad } from "./lib/load.mjs";
import { relayScenario } from "./lib/relay.mjs";
import {
  adminClient,
  BENCH_PLAN,
  buildGateway,
  makeIdps,
  measureStartup,
  provisionStrictTenant,
  provisionTenants,
  startRuntime,
} from "./lib/setup.mjs";

const { values: args } = parseArgs({
  options: {
    tenants: { type: "string", default: "1000" },
    duration: { type: "string", default: "8" },
    connections: { type: "string", default: "32" },
    rounds: { type: "string", default: "2" },
    json: { type: "string" },
    quick: { type: "boolean", default: false },
    "no-scale": { type: "boolean", default: false },
    "no-plans": { type: "boolean", default: false },
    "no-relay": { type: "boolean", default: false },
    "relay-senders": { type: "string", default: "100" },
    "relay-events": { type: "string", default: "2000" },
  },
});
const quick = args.quick;
const N = quick ? 200 : Number(args.tenants);
const duration = quick ? 3 : Number(args.duration);
const connections = Number(args.connections);
const rounds = quick ? 1 : Number(args.rounds);
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

/** One runtime with n warm tenants: the gateway's hot-path figures (and optionally the bare proxy's). */
async function session(script, idps, n, { withBare, cold }) {
  const rt = await startRuntime(script, idps.remoteJwks);
  try {
    log(`provisioning ${n + cold} tenants`);
    const tenants = await provisionTenants(rt.mf, idps, n + cold, 0, args["no-plans"] ? null : BENCH_PLAN);
    const hot = tenants.slice(0, n).map((t) => t.token);
    log(`warming ${n} tenants`);
    await eachOnce(rt.gateway, hot, 16);
    if (withBare) await runLoad({ url: rt.bare, tokens: hot, connections, duration: 1 });
    const runs = { bare: [], gateway: [] };
    for (let r = 0; r < (withBare ? rounds : 1); r++) {
      if (withBare) {
        log(`round ${r + 1}: bare proxy`);
        runs.bare.push(await runLoad({ url: rt.bare, tokens: hot, connections, duration }));
      }
      log(`round ${r + 1}: gateway (${n} tenants)`);
      const before = (await stats(rt.gateway)).counters;
      const run = await runLoad({ url: rt.gateway, tokens: hot, connections, duration });
      const after = (await stats(rt.gateway)).counters;
      run.counts = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
      runs.gateway.push(run);
    }
    let coldPath = null;
    if (cold > 0) {
      const coldTokens = tenants.slice(n).map((t) => t.token);
      const latencies = [];
      const before = (await stats(rt.gateway)).counters;
      await eachOnce(rt.gateway, coldTokens, 1, (ms) => latencies.push(ms));
      const after = (await stats(rt.gateway)).counters;
      coldPath = {
        tenants: cold,
        p50: +percentile(latencies, 50).toFixed(2),
        p99: +percentile(latencies, 99).toFixed(2),
        perRequest: Object.fromEntries(Object.keys(after).map((k) => [k, +((after[k] - before[k]) / cold).toFixed(2)])),
      };
    }
    const zones = withBare ? await spendZones(rt, idps, hot[0]) : null;
    const listing = await adminListing(rt.gateway, tenants[Math.floor(tenants.length * 0.9)].id);
    const isolate = await stats(rt.gateway);
    return { runs, coldPath, listing, caches: isolate.caches, zones };
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

/** Work counted over every gateway round, per request (background refreshes included). */
function perRequest(runs) {
  const total = runs.reduce((n, r) => n + r.requests, 0);
  return Object.fromEntries(
    Object.keys(runs[0].counts).map((k) => [k, +(runs.reduce((n, r) => n + r.counts[k], 0) / total).toFixed(4)]),
  );
}
const mean = (runs, key) => runs.reduce((s, r) => s + r[key], 0) / runs.length;
const summary = (runs) => ({
  cpuUsPerRequest: mean(runs, "cpuUsPerRequest"),
  rps: mean(runs, "rps"),
  p50: mean(runs, "p50"),
  p99: mean(runs, "p99"),
  p999: mean(runs, "p999"),
  non2xx: runs.reduce((s, r) => s + r.non2xx + r.errors, 0),
});

log("building the gateway bundle (wrangler deploy --dry-run)");
const bundle = await buildGateway();
log("measuring start-up");
const startup = await measureStartup(bundle.script);
const idps = await makeIdps();

const main = await session(bundle.script, idps, N, { withBare: true, cold: COLD });
const bare = summary(main.runs.bare);
const gw = summary(main.runs.gateway);

let scale = null;
if (!quick && !args["no-scale"]) {
  const small = await session(bundle.script, idps, 100, { withBare: false, cold: 0 });
  const large = await session(bundle.script, idps, 10_000, { withBare: false, cold: 0 });
  const s = summary(small.runs.gateway);
  const l = summary(large.runs.gateway);
  scale = {
    tenants100: { ...s, perRequest: perRequest(small.runs.gateway) },
    tenants10000: { ...l, perRequest: perRequest(large.runs.gateway) },
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

const report = {
  at: new Date().toISOString(),
  machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
  settings: {
    tenants: N,
    duration,
    connections,
    rounds,
    request: "POST /v1/messages",
    plan: args["no-plans"] ? null : BENCH_PLAN,
  },
  bare,
  gateway: gw,
  ratios: {
    throughput: gw.rps / bare.rps,
    cpuPerRequest: gw.cpuUsPerRequest / bare.cpuUsPerRequest,
    addedCpuUsPerRequest: gw.cpuUsPerRequest - bare.cpuUsPerRequest,
    addedP50Ms: gw.p50 - bare.p50,
    addedP99Ms: gw.p99 - bare.p99,
  },
  gatewayPerRequest: perRequest(main.runs.gateway),
  coldPath: main.coldPath,
  spendZones: main.zones,
  adminListing: main.listing,
  caches: main.caches,
  scale,
  relay,
  bundle: { rawKiB: +(bundle.rawBytes / 1024).toFixed(1), gzipKiB: +(bundle.gzipBytes / 1024).toFixed(1) },
  startup,
  rounds: main.runs,
};

const f = (x, d = 1) => (typeof x === "number" ? x.toFixed(d) : String(x));
const row = (name, s) =>
  `| ${name.padEnd(22)} | ${f(s.cpuUsPerRequest, 0).padStart(10)} | ${f(s.rps, 0).padStart(7)} | ${f(s.p50).padStart(6)} | ${f(s.p99).padStart(6)} | ${f(s.p999).padStart(7)} |`;
const lines = [
  `Zavu gateway benchmark: ${N} tenants (ES256 via JWKS URI / RS256 inline), POST /v1/messages, ${connections} connections, ${rounds} x ${duration}s alternating`,
  "",
  "| workerd, direct sockets | CPU µs/req | req/s   | p50 ms | p99 ms | p99.9 ms |",
  "|---|---|---|---|---|---|",
  row("bare proxy", bare),
  row("gateway (hot path)", gw),
  "",
  `gateway/bare throughput: ${f(report.ratios.throughput, 3)}   CPU per request: ${f(report.ratios.cpuPerRequest, 3)}x (+${f(report.ratios.addedCpuUsPerRequest, 0)} µs)   added latency p50: ${f(report.ratios.addedP50Ms, 2)} ms, p99: ${f(report.ratios.addedP99Ms, 2)} ms   failed requests: bare ${bare.non2xx}, gateway ${gw.non2xx}`,
  `hot path per request: ${JSON.stringify(report.gatewayPerRequest)}`,
  main.coldPath
    ? `cold path (${main.coldPath.tenants} never-seen tenants, sequential): p50 ${main.coldPath.p50} ms, p99 ${main.coldPath.p99} ms; per request ${JSON.stringify(main.coldPath.perRequest)}`
    : "",
  main.zones
    ? `spend zones, ${main.zones.far.sends} sequential sends each: far from every limit p50 ${main.zones.far.p50} ms, p99 ${main.zones.far.p99} ms (ledger calls awaited per send ${main.zones.far.ledgerCallsPerSend}); strict zone p50 ${main.zones.strict.p50} ms, p99 ${main.zones.strict.p99} ms (ledger calls awaited per send ${main.zones.strict.ledgerCallsPerSend}; the strict zone adds ${(main.zones.strict.p50 - main.zones.far.p50).toFixed(2)} ms at p50)`
    : "",
  `admin listing (limit=100, ${N + COLD} tenants): first page ${f(main.listing.firstPageMs, 2)} ms, page at 90% ${f(main.listing.deepPageMs, 2)} ms`,
  `isolate caches at the end: ${Object.entries(main.caches)
    .map(([k, v]) => `${k} ${v.size}/${v.max}`)
    .join(", ")}`,
  scale
    ? `scale: gateway at 100 tenants ${f(scale.tenants100.rps, 0)} req/s p99 ${f(scale.tenants100.p99)} ms; at 10,000 tenants ${f(scale.tenants10000.rps, 0)} req/s p99 ${f(scale.tenants10000.p99)} ms (throughput ratio ${f(scale.rpsRatio, 3)}, CPU/request ${f(scale.tenants100.cpuUsPerRequest, 0)} vs ${f(scale.tenants10000.cpuUsPerRequest, 0)} µs, ratio ${f(scale.cpuRatio, 3)}); work per request at 10,000: ${JSON.stringify(scale.tenants10000.perRequest)}; listing first/deep page at 10,000: ${f(scale.listing10000.firstPageMs, 2)}/${f(scale.listing10000.deepPageMs, 2)} ms vs ${f(scale.listing100.firstPageMs, 2)}/${f(scale.listing100.deepPageMs, 2)} ms at 100`
    : "scale: skipped",
  ...relayLines(relay),
  `bundle: ${report.bundle.rawKiB} KiB raw, ${report.bundle.gzipKiB} KiB gzipped; start-up to first answer: gateway ${f(startup.gatewayMs, 0)} ms vs trivial Worker ${f(startup.trivialMs, 0)} ms (script cost ~${f(startup.scriptStartupMs, 0)} ms); a trivial Worker with the gateway's bindings ${f(startup.trivialWithBindingsMs, 0)} ms (the gateway's script over it ~${f(startup.scriptOverBindingsMs, 0)} ms)`,
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
if (bare.non2xx > 0 || gw.non2xx > 0) {
  log("some requests failed: the figures are not valid");
  process.exitCode = 1;
}
if (relay && !relay.valid) {
  log(`the relay figures are not valid: ${relay.problems.join("; ")}`);
  process.exitCode = 1;
}
