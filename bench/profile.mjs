#!/usr/bin/env node
// npm run bench:profile [-- --tenants 300 --duration 8 --top 40 --out profile.cpuprofile --no-plans --bare --relay]
// A V8 CPU profile of the gateway's hot path under the bench's load, taken through workerd's
// inspector: the functions where the gateway's own CPU goes, by self time. Use it to find what a
// bench regression is made of; the bench itself (the minified deploy bundle) stays the figure of record.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
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
    /** Profile the bare proxy instead, under the same load: what a proxy costs anyway (fetch, Response, URL). */
    bare: { type: "boolean", default: false },
    /** Profile the relay instead: Zavu's signed events, 32 at a time, checked, queued and delivered. */
    relay: { type: "boolean", default: false },
  },
});
const log = (...a) => console.error("[profile]", ...a);
const INSPECTOR_PORT = 9329;

/** A Chrome DevTools Protocol session over the inspector's WebSocket (Node 22's global WebSocket). */
async function inspect(target) {
  const list = await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json();
  // Titles are "workerd: worker core:user:<name>".
  const found = list.find((t) => t.title.endsWith(`core:user:${target}`));
  if (!found) throw new Error(`no inspector target: ${JSON.stringify(list)}`);
  const ws = new WebSocket(found.webSocketDebuggerUrl);
  await new Promise((ok, fail) => {
    ws.onopen = ok;
    ws.onerror = fail;
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  };
  const send = (method, params = {}) =>
    new Promise((ok, fail) => {
      const n = ++id;
      pending.set(n, (msg) => (msg.error ? fail(new Error(`${method}: ${msg.error.message}`)) : ok(msg.result)));
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** Self time per function (and per source file), in µs per request. */
function summarize(profile, requests) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    self.set(node.id, (self.get(node.id) ?? 0) + (dt[i + 1] ?? 0));
  }
  const fns = new Map();
  const files = new Map();
  for (const [nodeId, us] of self) {
    const { callFrame: f } = byId.get(nodeId);
    const file = f.url ? f.url.split("/").slice(-1)[0] : "(native)";
    const key = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const table = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, Number(args.top))
      .map(([k, us]) => `${(us / requests).toFixed(2).padStart(8)} µs/req  ${k}`)
      .join("\n");
  return `by function (self time):\n${table(fns)}\n\nby file:\n${table(files)}`;
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
    const session = await inspect("gateway");
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: 100 });
    await session.send("Profiler.start");
    const run = await relayLoad(senders, 1500);
    const { profile } = await session.send("Profiler.stop");
    session.close();
    if (args.out) writeFileSync(args.out, JSON.stringify(profile));
    console.log(`${run.requests} events, workerd CPU ${run.cpuUsPerRequest.toFixed(0)} µs/event (2 s idle included)`);
    console.log(summarize(profile, run.requests));
    process.exit(0);
  }
  log(`provisioning and warming ${n} tenants`);
  const tenants = await provisionTenants(rt.mf, idps, n, 0, args["no-plans"] ? null : BENCH_PLAN);
  const tokens = tenants.map((t) => t.token);
  await eachOnce(rt.gateway, tokens, 16);
  const target = args.bare ? "bare" : "gateway";
  const url = args.bare ? rt.bare : rt.gateway;
  await runLoad({ url, tokens, connections: Number(args.connections), duration: 2 });
  const session = await inspect(target);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: 100 });
  await session.send("Profiler.start");
  log(`profiling ${args.duration} s of load`);
  const run = await runLoad({
    url,
    tokens,
    connections: Number(args.connections),
    duration: Number(args.duration),
  });
  const { profile } = await session.send("Profiler.stop");
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
