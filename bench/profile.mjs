#!/usr/bin/env node
// npm run bench:profile [-- --tenants 300 --duration 8 --top 40 --out profile.cpuprofile --no-plans --bare --relay
//                           --compare-plans --rounds 4]
// A V8 CPU profile of the gateway's hot path under the bench's load, taken through workerd's
// inspector: the functions where the gateway's own CPU goes, by self time. Use it to find what a
// bench regression is made of; the bench itself (the minified deploy bundle) stays the figure of record.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { inspect, selfTimes, startProfile } from "./lib/inspect.mjs";
import { eachOnce, runLoad, workerdCpuSeconds } from "./lib/load.mjs";
import { provisionSenders, zavuEvent } from "./lib/relay.mjs";
import { BENCH_PLAN, buildGateway, makeIdps, provisionTenants, startRuntime } from "./lib/setup.mjs";

const { values: args } = parseArgs({
  options: {
    tenants: { type: "string", default: "300" },
    duration: { type: "string", default: "8" },
    connections: { type: "string", default: "32" },
    top: { type: "string", default: "40" },
    out: { type: "string" },
    "no-plans": { type: "boolean", default: false },
    /**
     * Tenants without a plan and tenants with BENCH_PLAN in the same runtime, profiled in alternate short
     * runs (--duration each, --rounds times): self time per function side by side, what a plan adds.
     */
    "compare-plans": { type: "boolean", default: false },
    rounds: { type: "string", default: "4" },
    /** Profile the bare proxy instead, under the same load: what a proxy costs anyway (fetch, Response, URL). */
    bare: { type: "boolean", default: false },
    /** Profile the relay instead: Zavu's signed events, 32 at a time, checked, queued and delivered. */
    relay: { type: "boolean", default: false },
  },
});
const log = (...a) => console.error("[profile]", ...a);
const INSPECTOR_PORT = 9329;

/** Self time per function (and per source file), in µs per request. */
function summarize(profile, requests) {
  const { functions, files } = selfTimes(profile);
  const table = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, Number(args.top))
      .map(([k, us]) => `${(us / requests).toFixed(2).padStart(8)} µs/req  ${k}`)
      .join("\n");
  return `by function (self time):\n${table(functions)}\n\nby file:\n${table(files)}`;
}

const bundle = await buildGateway({ minify: false }); // readable names; the same code as deployed, unminified
const idps = await makeIdps();
const rt = await startRuntime(bundle.script, idps.remoteJwks, { inspectorPort: INSPECTOR_PORT });
/** Zavu's events to the relay, `connections` at a time; CPU per event includes its delivery to the customer. */
async function relayLoad(senders, count) {
  const events = Array.from({ length: count }, (_, i) =>
    zavuEvent(senders[i % senders.length], `evt_prof_${i}_${Date.now()}`),
  );
  const cpu = workerdCpuSeconds();
  let i = 0;
  const worker = async () => {
    while (i < events.length) {
      const e = events[i++];
      const res = await fetch(`${rt.gateway}/relay/zavu/${e.sender.relayId}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-zavu-signature": e.signature },
        body: e.body,
      });
      if (res.status !== 200) throw new Error(`relay answered ${res.status}: ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: Number(args.connections) }, worker));
  await new Promise((r) => setTimeout(r, 2_000)); // deliveries finish
  return { requests: count, cpuUsPerRequest: ((workerdCpuSeconds() - cpu - 0) * 1e6) / count };
}

try {
  const n = Number(args.tenants);
  if (args.relay) {
    const tenants = await provisionTenants(rt.mf, idps, 100, 0, null);
    const senders = await provisionSenders(rt.mf, tenants);
    await relayLoad(senders, 300);
    const session = await inspect(INSPECTOR_PORT, "gateway");
    const profiler = await startProfile(session);
    const run = await relayLoad(senders, 1500);
    const profile = await profiler.stop();
    session.close();
    if (args.out) writeFileSync(args.out, JSON.stringify(profile));
    console.log(`${run.requests} events, workerd CPU ${run.cpuUsPerRequest.toFixed(0)} µs/event (2 s idle included)`);
    console.log(summarize(profile, run.requests));
    process.exit(0);
  }
  if (args["compare-plans"]) {
    const populations = {
      "no plan": (await provisionTenants(rt.mf, idps, n, 0, null)).map((t) => t.token),
      plan: (await provisionTenants(rt.mf, idps, n, n, BENCH_PLAN)).map((t) => t.token),
    };
    const self = {};
    const requests = {};
    const session = await inspect(INSPECTOR_PORT, "gateway");
    for (const tokens of Object.values(populations)) {
      await eachOnce(rt.gateway, tokens, 16);
      await runLoad({ url: rt.gateway, tokens, connections: Number(args.connections), duration: 2 });
    }
    for (let r = 0; r < Number(args.rounds); r++) {
      for (const [name, tokens] of Object.entries(populations)) {
        log(`round ${r + 1}: ${name}`);
        const profiler = await startProfile(session);
        const run = await runLoad({
          url: rt.gateway,
          tokens,
          connections: Number(args.connections),
          duration: Number(args.duration),
        });
        const { functions } = selfTimes(await profiler.stop());
        self[name] ??= new Map();
        for (const [k, us] of functions) self[name].set(k, (self[name].get(k) ?? 0) + us);
        requests[name] = (requests[name] ?? 0) + run.requests;
      }
    }
    session.close();
    const names = Object.keys(populations);
    const per = (name, k) => (self[name].get(k) ?? 0) / requests[name];
    const keys = [...new Set(names.flatMap((name) => [...self[name].keys()]))].filter((k) => !k.startsWith("(idle)"));
    keys.sort((a, b) => Math.max(...names.map((nm) => per(nm, b))) - Math.max(...names.map((nm) => per(nm, a))));
    console.log(
      `self time, µs per request (${names.join(" / ")}), ${args.rounds} alternated runs of ${args.duration} s each`,
    );
    for (const k of keys.slice(0, Number(args.top)))
      console.log(`${names.map((nm) => per(nm, k).toFixed(2).padStart(8)).join(" ")}  ${k}`);
    const total = (name) => keys.reduce((sum, k) => sum + per(name, k), 0);
    console.log(`${names.map((nm) => total(nm).toFixed(2).padStart(8)).join(" ")}  (all, not idle)`);
    process.exit(0);
  }
  log(`provisioning and warming ${n} tenants`);
  const tenants = await provisionTenants(rt.mf, idps, n, 0, args["no-plans"] ? null : BENCH_PLAN);
  const tokens = tenants.map((t) => t.token);
  await eachOnce(rt.gateway, tokens, 16);
  const target = args.bare ? "bare" : "gateway";
  const url = args.bare ? rt.bare : rt.gateway;
  await runLoad({ url, tokens, connections: Number(args.connections), duration: 2 });
  const session = await inspect(INSPECTOR_PORT, target);
  const profiler = await startProfile(session);
  log(`profiling ${args.duration} s of load`);
  const run = await runLoad({
    url,
    tokens,
    connections: Number(args.connections),
    duration: Number(args.duration),
  });
  const profile = await profiler.stop();
  session.close();
  if (args.out) writeFileSync(args.out, JSON.stringify(profile));
  const total = profile.endTime - profile.startTime;
  console.log(
    `${run.requests} requests, workerd CPU ${run.cpuUsPerRequest.toFixed(0)} µs/req, profile ${(total / 1e6).toFixed(1)} s`,
  );
  console.log(summarize(profile, run.requests));
} finally {
  await rt.mf.dispose();
}
