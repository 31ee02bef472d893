// The fault matrix (issue 22): each row switches one fault on during the mixed workload across 3
// isolates (workload.ts), then off; after recovery the six invariants are checked and the row's
// counts printed as one table. The faults of the gateway's own dependencies come from the test entry
// (test/node/harness/fault-entry.ts), Zavu's and the receiver's from the sandbox.
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Cluster, startCluster } from "../harness/cluster";
import { FAULT_MS, ROWS, runRow } from "./rows";
import { formatTable, GATEWAY_VARS, LogScan, prepareBed, type RowResult } from "./workload";

const scan = new LogScan();
let cluster: Cluster;
const results: RowResult[] = [];
beforeAll(async () => {
  cluster = await startCluster({ isolates: 3, faults: true, killable: true, vars: GATEWAY_VARS, onLog: scan.onLog });
  await prepareBed(cluster);
});
afterAll(async () => {
  if (results.length > 0)
    console.log(`[faults] the matrix, 3 isolates, each fault on for ${FAULT_MS / 1000} s:\n${formatTable(results)}`);
  await cluster?.stop();
});

// FAULT_ROWS=<regular expression> runs only the rows it matches (e.g. while fixing one).
const only = process.env.FAULT_ROWS ? new RegExp(process.env.FAULT_ROWS, "i") : null;
// FAULT_REPEAT=<n> runs each of them n times (is a row stable?).
const repeat = Math.max(1, Number(process.env.FAULT_REPEAT ?? 1));
const chosen = ROWS.filter((r) => !only || only.test(r.name));
for (const row of Array.from({ length: repeat }, () => chosen).flat()) {
  it(`${row.name}: the six invariants hold after recovery`, { timeout: 120_000 }, async () => {
    const r = await runRow(cluster, row, scan);
    results.push(r);
    console.log(`[faults] ${row.name}: ${JSON.stringify(r)}`);
    expect.soft(r.invariants.crossTenant, "cross-tenant requests").toBe(0);
    expect.soft(r.invariants.spendOverLimit, "spend over the limit plus one send per isolate").toBe(false);
    if (row.unknownOutcomes) {
      // Known limit (docs/known-limits.md): a send whose outcome the gateway never learned (504 upstream_timeout, 502
      // upstream_unavailable after a reset), or whose count died with its isolate before the isolate
      // handed it over, is not a usage record; Zavu's charge for it reaches the records as drift cents at
      // the next reconciliation. Never more missing than such sends (RowResult.unknownSends).
      expect.soft(r.invariants.usageMismatch, "usage records minus Zavu's accepted sends").toBeLessThanOrEqual(0);
      expect.soft(-r.invariants.usageMismatch, "sends missing from usage records").toBeLessThanOrEqual(r.unknownSends);
    } else {
      expect.soft(r.invariants.usageMismatch, "usage records minus Zavu's accepted sends").toBe(0);
    }
    expect.soft(r.invariants.deliveriesLost, "deliveries neither arrived nor given up").toBe(0);
    expect.soft(r.invariants.adminHalfApplied, `admin changes half-applied: ${r.notes.join("; ")}`).toBe(0);
    expect.soft(r.invariants.secretsInLogs, "secrets in log lines").toBe(0);
  });
}
