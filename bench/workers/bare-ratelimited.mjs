// The bare proxy plus CALLS calls to the Rate Limiting stand-in per request (bench/workers/ratelimit.mjs),
// one after the other, as a plan's check makes one: its CPU over the bare proxy's, divided by CALLS, is what
// one stand-in call costs (several calls a request, so the bench's noise is divided as well). The bench
// takes that off the gateway's figure with plans: the stand-in is not the gateway's own cost.
let calls = 0;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    for (let i = Number(env.CALLS); i > 0; i--) {
      // Keys of its own (apart from the gateway's tenant ids), 10,000 of them: never near the binding's limit.
      const key = `probe:${calls++ % 10_000}`;
      const { success } = await env.RL.limit({ key });
      if (!success) return new Response("rate limited", { status: 429 });
    }
    headers.set("authorization", `Bearer ${env.UPSTREAM_KEY}`);
    return fetch(`${env.UPSTREAM}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.body,
    });
  },
};
