// The soak (issue 22): `npm run soak -- --minutes 10` (scripts/soak.mjs runs this file through
// vitest.soak.config.ts). The mixed workload runs through 3 isolates in rounds; each round makes fresh
// tenants and switches one fault of the matrix (rows.ts, all but the restart: a restart would reset the
// heaps being watched) on for 2-8 s at random, then off. Printed: every isolate's live V8 heap over time
// (workerd's inspector: HeapProfiler.collectGarbage, then Runtime.getHeapUsage, per isolate), p50/p99 latency per minute, error codes, and
// the six invariants summed over the rounds.
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Cluster, startCluster } from "../harness/cluster";
import { ROWS, runRow } from "./rows";
import { formatTable, GATEWAY_VARS, LogScan, prepareBed, type RowResult, Tally } from "./workload";

const MINUTES = Number(process.env.SOAK_MINUTES ?? 1);
const INSPECTOR_PORT = 9341;
const scan = new LogScan();
let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({
    isolates: 3,
    faults: true,
    vars: GATEWAY_VARS,
    onLog: scan.onLog,
    inspectorPort: INSPECTOR_PORT,
  });
  await prepareBed(cluster);
});
afterAll(() => cluster?.stop());

/** Live V8 heap of each gateway isolate (MB, after a full collection), over the inspector's WebSocket. */
async function heaps(): Promise<number[]> {
  const targets = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json()) as Array<{
    id: string;
    webSocketDebuggerUrl: string;
  }>;
  return Promise.all(
    cluster.gateways.map(async (_, i) => {
      const target = targets.find((t) => t.id === `core:user:gateway-${i}`);
      if (!target) return Number.NaN;
      // Node 22's global WebSocket (not in this project's type libraries).
      const ws = new (globalThis as unknown as { WebSocket: new (url: string) => any }).WebSocket(
        target.webSocketDebuggerUrl,
      );
      await new Promise((ok, fail) => {
        ws.onopen = ok;
        ws.onerror = fail;
      });
      const answer = await new Promise<{ usedSize: number }>((ok) => {
        ws.onmessage = (e: { data: unknown }) => {
          const msg = JSON.parse(String(e.data)) as { id?: number; result?: { usedSize: number } };
          if (msg.id === 1 && msg.result) ok(msg.result);
        };
        // A full collection first: what is measured is the live heap, not garbage waiting for V8.
        ws.send(JSON.stringify({ id: 0, method: "HeapProfiler.collectGarbage" }));
        ws.send(JSON.stringify({ id: 1, method: "Runtime.getHeapUsage" }));
      });
      ws.close();
      return answer.usedSize / 1_048_576;
    }),
  );
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

it(`soak: ${MINUTES} min of the mixed workload with faults on and off at random`, {
  timeout: (MINUTES + 3) * 60_000,
}, async () => {
  const started = Date.now();
  const end = started + MINUTES * 60_000;
  const tally = new Tally();
  const rounds: RowResult[] = [];
  const heapSeries: Array<{ s: number; mb: number[] }> = [];
  const sampler = setInterval(() => {
    void heaps().then(
      (mb) => heapSeries.push({ s: Math.round((Date.now() - started) / 1000), mb }),
      () => undefined,
    );
  }, 15_000);
  heapSeries.push({ s: 0, mb: await heaps() });
  const candidates = ROWS.filter((r) => !r.during);
  while (Date.now() < end) {
    const row = candidates[Math.floor(Math.random() * candidates.length)]!;
    const faultMs = 2_000 + Math.floor(Math.random() * 6_000);
    const own = new Tally();
    const r = await runRow(cluster, { ...row, ms: row.ms ? Math.min(row.ms, faultMs) : undefined }, scan, own, faultMs);
    tally.requests += own.requests;
    tally.fivexx += own.fivexx;
    tally.latencies.push(...own.latencies);
    tally.at.push(...own.at);
    for (const [k, v] of Object.entries(own.codes)) tally.codes[k] = (tally.codes[k] ?? 0) + v;
    r.row = `${rounds.length + 1}. ${row.name} (${(row.ms ? Math.min(row.ms, faultMs) : faultMs) / 1000} s)`;
    rounds.push(r);
  }
  clearInterval(sampler);
  heapSeries.push({ s: Math.round((Date.now() - started) / 1000), mb: await heaps() });

  const lines: string[] = [`[soak] ${MINUTES} min, 3 isolates, ${rounds.length} rounds, ${tally.requests} requests`];
  lines.push("[soak] heap (MB used, per isolate) over time:");
  for (const h of heapSeries)
    lines.push(`  ${String(h.s).padStart(5)} s  ${h.mb.map((m) => m.toFixed(1).padStart(6)).join(" ")}`);
  lines.push("[soak] latency per minute (all requests):");
  for (let m = 0; m * 60_000 < Date.now() - started; m++) {
    const from = started + m * 60_000;
    const ms = tally.latencies
      .filter((_, i) => tally.at[i]! >= from && tally.at[i]! < from + 60_000)
      .sort((a, b) => a - b);
    lines.push(
      `  minute ${m + 1}: ${ms.length} requests, p50 ${pct(ms, 0.5).toFixed(1)} ms, p99 ${pct(ms, 0.99).toFixed(1)} ms`,
    );
  }
  lines.push(`[soak] error codes: ${JSON.stringify(tally.codes)}`);
  const sum = (k: keyof RowResult["invariants"]) => rounds.reduce((n, r) => n + Number(r.invariants[k]), 0);
  const known = rounds.reduce((n, r) => n + Math.min(r.unknownSends, Math.max(0, -r.invariants.usageMismatch)), 0);
  lines.push(
    `[soak] invariants over ${rounds.length} rounds: cross-tenant ${sum("crossTenant")}, over the limit ${sum("spendOverLimit")}, usage mismatch ${sum("usageMismatch")} (of it ${known} unknown outcomes: a known limit), deliveries lost ${sum("deliveriesLost")}, admin half-applied ${sum("adminHalfApplied")}, secrets in logs ${sum("secretsInLogs")} (${scan.lines} log lines)`,
  );
  lines.push(formatTable(rounds));
  console.log(lines.join("\n"));

  // Flat after warm-up: the last sample within 10% (or 2 MB) of the one a third of the way in (a run
  // of under 5 minutes is all warm-up: its heaps are printed, not judged).
  const warm = heapSeries[Math.floor(heapSeries.length / 3)]!.mb;
  const last = heapSeries[heapSeries.length - 1]!.mb;
  for (const [i, mb] of MINUTES >= 5 ? last.entries() : [])
    expect.soft(mb, `isolate ${i} heap after warm-up`).toBeLessThanOrEqual(Math.max(warm[i]! * 1.1, warm[i]! + 2));
  expect(sum("crossTenant")).toBe(0);
  expect(sum("spendOverLimit")).toBe(0);
  expect(sum("secretsInLogs")).toBe(0);
});
