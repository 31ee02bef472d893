// workerd's inspector, for CPU profiles of one Worker's isolate (bench/profile.mjs, bench/ab.mjs --profile).

/** A Chrome DevTools Protocol session with the Worker `name`'s isolate (Node 22's global WebSocket). */
export async function inspect(port, name) {
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  // Titles are "workerd: worker core:user:<name>".
  const found = list.find((t) => t.title.endsWith(`core:user:${name}`));
  if (!found) throw new Error(`no inspector target for ${name}: ${list.map((t) => t.title).join(", ")}`);
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

/** Starts sampling every 100 µs; `stop()` answers the profile. */
export async function startProfile(session) {
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: INTERVAL_US });
  await session.send("Profiler.start");
  return {
    async stop() {
      const { profile } = await session.send("Profiler.stop");
      return profile;
    },
  };
}

/** Sampling interval asked for (µs); workerd's sampler takes about 180 µs between samples on this machine. */
const INTERVAL_US = 100;

/**
 * Self time (µs) per function ("name file:line") and per source file. A sample that comes long after
 * the one before (the thread was descheduled: a busy machine) counts twice the median gap, not the whole
 * gap, which would otherwise land on whatever function happened to be running.
 */
export function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  const sorted = dt.slice(1).sort((a, b) => a - b);
  const maxGap = 2 * (sorted[sorted.length >> 1] ?? INTERVAL_US);
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + Math.min(dt[i + 1] ?? 0, maxGap));
  }
  const functions = new Map();
  const files = new Map();
  for (const [nodeId, us] of self) {
    const { callFrame: f } = byId.get(nodeId);
    const file = f.url ? f.url.split("/").slice(-1)[0] : "(native)";
    const key = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  return { functions, files };
}
