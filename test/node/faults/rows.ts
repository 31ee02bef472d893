// The rows of the fault matrix (matrix.test.ts) and the soak (soak.run.ts): one fault each, switched
// on during the mixed workload (workload.ts) and off again.

import { admin, type Cluster, sandboxControl, setDependencyFaults, sleep } from "../harness/cluster";
import type { DependencyFault } from "../harness/fault-entry";
import {
  checkInvariants,
  judgeOrphans,
  type LogScan,
  orphans,
  prepareRow,
  RETRY_SCALE,
  type RowResult,
  settleDeliveries,
  spendToLimit,
  Tally,
  workload,
} from "./workload";

/** How long each fault stays on. */
export const FAULT_MS = 5_000;

export interface Row {
  name: string;
  deps?: DependencyFault[];
  zavu?: Array<Record<string, unknown>>;
  /** Instead of (or beside) rules: something done to the bed while the workload runs. */
  during?: (cluster: Cluster, tally: Tally) => Promise<void>;
  ms?: number;
  /**
   * Zavu may carry out sends whose answer (or count) the gateway never gets (timeouts, resets, a killed
   * isolate): see the matrix.
   */
  unknownOutcomes?: boolean;
}

export const ROWS: Row[] = [
  { name: "no fault (baseline)" },
  { name: "D1 failing 30%", deps: [{ target: "DB", mode: "fail", rate: 0.3 }] },
  { name: "D1 slow (2 s)", deps: [{ target: "DB", mode: "delay", delayMs: 2_000 }] },
  // Unreachable: each call fails after a second ("Network connection lost.", retryable), as from a lost machine.
  { name: "control-plane DO unreachable", deps: [{ target: "CONTROL", mode: "hang", delayMs: 1_000 }] },
  { name: "ledger DO overloaded", deps: [{ target: "LEDGER", mode: "overloaded" }] },
  { name: "usage shard DO reset", deps: [{ target: "USAGE", mode: "reset" }] },
  { name: "KV failing", deps: [{ target: "CACHE", mode: "fail" }] },
  { name: "Zavu 5xx 30%", zavu: [{ path: "/v1/**", status: 500, rate: 0.3 }] },
  // The gateway gives up after UPSTREAM_TIMEOUT_MS (3 s); Zavu still carries the send out after 4 s.
  {
    name: "Zavu timeouts 30%",
    zavu: [{ path: "/v1/messages", method: "POST", latencyMs: 4_000, rate: 0.3 }],
    unknownOutcomes: true,
  },
  {
    name: "Zavu resets after accepting 30%",
    zavu: [{ path: "/v1/messages", method: "POST", reset: true, afterEffect: true, rate: 0.3 }],
    unknownOutcomes: true,
  },
  {
    name: "Zavu slow body (1.5 s) 30%",
    zavu: [{ path: "/v1/messages", method: "POST", bodyDelayMs: 1_500, rate: 0.3 }],
  },
  // 6 h of the real retry schedule, at WEBHOOK_RETRY_SCALE (the clock is not moved: the schedule is scaled).
  {
    name: "receiver down 6 h (scaled)",
    zavu: [{ path: "/__sandbox/hooks/*", status: 503 }],
    ms: Math.round(6 * 3_600_000 * RETRY_SCALE),
  },
  // One isolate's workerd process killed 2 s in (its leases and requests in flight gone), another started
  // on its port; the other two serve on.
  {
    name: "an isolate killed mid-lease",
    during: async (cluster, tally) => {
      await sleep(2_000);
      tally.killed = { gateway: cluster.gateways[cluster.gateways.length - 1]!, at: Date.now() };
      await cluster.replaceIsolate();
    },
    unknownOutcomes: true,
  },
];

let rounds = 0;

/** Runs one row; returns its result. */
export async function runRow(
  c: Cluster,
  row: Row,
  logs: LogScan,
  tally = new Tally(),
  faultMs = FAULT_MS,
): Promise<RowResult> {
  // A name of its own (hook names, request ids), also when a soak runs the same row again.
  const w = await prepareRow(c, `${row.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}-${++rounds}`);
  const from = logs.mark();
  const orphansBefore = new Set((await orphans(c)).map((o) => o.id));
  if (row.deps) await setDependencyFaults(c, row.deps);
  for (const rule of row.zavu ?? []) await sandboxControl(c, "POST", "/faults", rule);
  const window = (async () => {
    await Promise.all([sleep(row.ms ?? faultMs), row.during?.(c, tally)]);
    await setDependencyFaults(c, []);
    await sandboxControl(c, "DELETE", "/faults");
    await sleep(500);
  })();
  await workload(w, tally, window);
  await spendToLimit(w, tally);
  await settleDeliveries(w);
  const result = await checkInvariants(w, tally, { scan: logs, from });
  result.row = row.name;
  await admin(c.gateways[0]!, "DELETE", `/webhooks/${w.webhookId}`); // the reseller's webhooks are capped
  // An onboarding half-made at Zavu: allowed only under a 503 that named it and says how to finish.
  const { violations, finished, deferred } = await judgeOrphans(w, orphansBefore);
  result.invariants.adminHalfApplied += violations.length;
  result.notes.push(...violations);
  if (finished + deferred > 0)
    result.notes.push(
      `onboarding half-made under 503 provisioning_incomplete: ${finished} finished by the repair it names, ${deferred} repair refused 409 while the failed run's lock lasts`,
    );
  return result;
}
