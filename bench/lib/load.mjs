import { readdirSync, readFileSync } from "node:fs";
import autocannon from "autocannon";

/**
 * CPU seconds used so far by the workerd processes this benchmark started (Linux /proc).
 * CPU per request is a far steadier figure than requests/s on a 2-core machine where the
 * load generator competes for the same cores.
 */
export function workerdCpuSeconds() {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const name = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      if (name === "workerd" && Number(fields[1]) === process.pid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return ticks / 100; // USER_HZ
}

const BODY = JSON.stringify({ to: "+15551234567", text: "bench" });

/**
 * Fixed concurrency and duration of POST /v1/messages, the tokens spread round-robin over the
 * tenants (the bare proxy gets the same headers and ignores them). `rate`: requests a second over all
 * connections (0: each connection sends its next request as soon as it has the answer).
 */
export async function runLoad({ url, tokens, connections, duration, rate = 0 }) {
  let next = 0;
  const cpuBefore = workerdCpuSeconds();
  const result = await autocannon({
    url: `${url}/v1/messages`,
    method: "POST",
    connections,
    duration,
    ...(rate > 0 ? { overallRate: rate } : {}),
    headers: { "content-type": "application/json" },
    body: BODY,
    requests: [
      {
        setupRequest(req) {
          req.headers = { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` };
          return req;
        },
      },
    ],
  });
  const cpuSeconds = workerdCpuSeconds() - cpuBefore;
  return {
    cpuUsPerRequest: result.requests.total ? (cpuSeconds * 1e6) / result.requests.total : null,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** Sends one request per token, a few at a time (to warm caches, or to measure the cold path). */
export async function eachOnce(url, tokens, concurrency, onDone = () => {}) {
  let i = 0;
  const worker = async () => {
    while (i < tokens.length) {
      const token = tokens[i++];
      const started = performance.now();
      const res = await fetch(`${url}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: BODY,
      });
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`warm-up request answered ${res.status}`);
      onDone(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
