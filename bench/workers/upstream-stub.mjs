// The benchmark's upstream: answers instantly, so the figures measure the proxies, not Zavu.
// Also serves the benchmark IdP's JWKS (the gateway's outbound fetches all land here).
const JSON_HEADERS = { "content-type": "application/json" };
const MESSAGE = JSON.stringify({
  message: {
    id: "msg_bench",
    channel: "sms",
    createdAt: "2026-01-01T00:00:00.000Z",
    direction: "outbound",
    messageType: "text",
    status: "queued",
    to: "+15551234567",
    cost: 0.01,
    costProvider: 0,
    costTotal: 0.01,
  },
});
const BALANCE = JSON.stringify({
  balance: 100_000_000,
  currency: "usd",
  creditLimit: null,
  totalSpent: 0,
  isSubAccount: true,
});

/** Sends of the strict-zone tenant so far: its reported limit stays 12 cents ahead of them. */
let strictSends = 0;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.hostname === "idp.bench") return new Response(env.JWKS, { headers: JSON_HEADERS });
    if (request.body) await request.arrayBuffer();
    if (url.pathname === "/v1/sub-accounts/sa_strict/balance") {
      const figures = { balance: 100_000_000, currency: "usd", creditLimit: strictSends + 12, totalSpent: strictSends };
      return new Response(JSON.stringify(figures), { headers: JSON_HEADERS });
    }
    if (url.pathname === "/v1/messages" && request.headers.get("authorization") === "Bearer zv_live_sub_strict") {
      strictSends++;
    }
    if (url.pathname === "/v1/messages" && request.method === "POST")
      return new Response(MESSAGE, { status: 202, headers: JSON_HEADERS });
    if (url.pathname === "/v1/balance") return new Response(BALANCE, { headers: JSON_HEADERS });
    return new Response('{"code":"not_found","message":"not in the stub"}', { status: 404, headers: JSON_HEADERS });
  },
};
