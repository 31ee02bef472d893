// Stands in for the Workers Rate Limiting binding in the benchmark: `limit({key})` over Worker RPC,
// with the binding's limit and period as props (one entrypoint, one service binding per RL_* name).
// Miniflare's own emulation keeps its counters in a Durable Object with SQLite (measured: ~+590 µs of
// CPU per call on this machine); this costs ~+100-150 µs a call (an RPC between Workers; `npm run bench`
// measures it as bench/workers/bare-ratelimited.mjs over the bare proxy, and takes it off the gateway's
// figure with plans). In production the binding's counters are cached on the machine the Worker runs
// on: both are upper bounds of its cost.
import { WorkerEntrypoint } from "cloudflare:workers";

const windows = new Map();

export class RateLimit extends WorkerEntrypoint {
  async limit({ key }) {
    const { name, limit, period } = this.ctx.props;
    const epoch = Math.floor(Date.now() / (period * 1000));
    const id = `${name}|${key}`;
    let w = windows.get(id);
    if (!w || w.epoch !== epoch) {
      if (windows.size > 100_000) windows.clear();
      w = { epoch, count: 0 };
      windows.set(id, w);
    }
    if (w.count >= limit) return { success: false };
    w.count++;
    return { success: true };
  }
}

export default {
  fetch() {
    return new Response("rate limit stand-in", { status: 404 });
  },
};
