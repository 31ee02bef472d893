// The bare proxy plus one call to the Rate Limiting stand-in per request (bench/workers/ratelimit.mjs),
// as a plan's check makes it: its CPU over the bare proxy's is what one stand-in call costs, which the
// bench takes off the gateway's figure with plans (the stand-in is not the gateway's own cost).
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    // One key per token, as the gateway keys its calls by tenant (kept apart from the gateway's keys).
    const { success } = await env.RL.limit({ key: `probe:${headers.get("authorization")?.slice(-12)}` });
    if (!success) return new Response("rate limited", { status: 429 });
    headers.set("authorization", `Bearer ${env.UPSTREAM_KEY}`);
    return fetch(`${env.UPSTREAM}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.body,
    });
  },
};
