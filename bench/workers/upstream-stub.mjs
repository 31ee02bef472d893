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

/**
 * The strict-zone tenant's sub-account, as the main key reads it when the bench adopts it through
 * the admin API (POST /admin/v1/tenants/import): its record and its one live key.
 */
const STRICT_SUB_ACCOUNT = JSON.stringify({
  subAccount: {
    id: "sa_strict",
    name: "Bench strict",
    status: "active",
    totalSpent: 0,
    creditLimit: 1_000_000_000,
    externalId: null,
    metadata: null,
    createdAt: "2026-01-01T00:00:00.000Z",
  },
});
const STRICT_KEYS = JSON.stringify({
  items: [{ id: "key_strict", name: "bench", environment: "live", keyPrefix: "zv_live_sub_str", createdAt: 0 }],
});

/** Sends of the strict-zone tenant so far: its reported limit stays 12 cents ahead of them. */
let strictSends = 0;

/**
 * The relay scenario's customer receiver (https://hooks.bench/...): per Zavu event id (read from the
 * body), when its first delivery arrived (Date.now()), how many deliveries came, and the first one's
 * X-Zavu-Signature (the bench checks it against the body it sent). Read with GET /__bench/receipts.
 */
const receipts = new Map();
let deliveries = 0;

async function receive(request) {
  const body = await request.text();
  const at = Date.now();
  deliveries++;
  let id = null;
  try {
    id = JSON.parse(body).id;
  } catch {}
  if (typeof id !== "string") return new Response("not an event", { status: 400 });
  const seen = receipts.get(id);
  if (seen) seen.count++;
  else receipts.set(id, { at, count: 1, signature: request.headers.get("x-zavu-signature") });
  return new Response(null, { status: 200 });
}

/** `?full=1`: every receipt; else only the counts (cheap enough to poll). */
function readReceipts(url) {
  const counts = { deliveries, events: receipts.size };
  const body = url.searchParams.get("full") ? { ...counts, receipts: Object.fromEntries(receipts) } : counts;
  return new Response(JSON.stringify(body), { headers: JSON_HEADERS });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.hostname === "idp.bench") return new Response(env.JWKS, { headers: JSON_HEADERS });
    if (url.hostname === "hooks.bench") return receive(request);
    if (url.pathname === "/__bench/receipts" && request.method === "GET") return readReceipts(url);
    if (request.body) await request.arrayBuffer();
    if (url.pathname === "/v1/sub-accounts/sa_strict")
      return new Response(STRICT_SUB_ACCOUNT, { headers: JSON_HEADERS });
    if (url.pathname === "/v1/sub-accounts/sa_strict/api-keys")
      return new Response(STRICT_KEYS, { headers: JSON_HEADERS });
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
