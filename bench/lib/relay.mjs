// The relay scenario (issue 19): Zavu POSTs signed events to /relay/zavu/{relayId}; the gateway checks
// them, queues each once in the tenant's TenantEvents Durable Object, answers 200, and the object then
// POSTs the same body, signed with the customer's secret, to the customer's URL. Here that URL is
// https://hooks.bench/receipt, answered at once by the upstream stub (the gateway's outbound service),
// which remembers when each event arrived; the bench reads that through the stub's own socket.
import { createHmac, timingSafeEqual } from "node:crypto";
import { unwrap } from "@zavu-gateway/admin-client";
import { percentile, workerdCpuSeconds } from "./load.mjs";
import { adminClient, provisionTenants, sealForBench, startRuntime } from "./setup.mjs";

const WEBHOOK_URL = "https://hooks.bench/receipt";
const hmacHex = (secret, data) => createHmac("sha256", secret).update(data).digest("hex");
const round2 = (x) => +x.toFixed(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Wall clock in ms with sub-ms precision (the stub stamps arrivals with workerd's Date.now()). */
const nowMs = () => performance.timeOrigin + performance.now();

/** One sender per tenant, straight into D1 (like the tenants), both secrets sealed by the gateway's own code. */
export async function provisionSenders(mf, tenants) {
  const db = await mf.getD1Database("DB", "gateway");
  const now = Date.now();
  const senders = [];
  for (const [n, t] of tenants.entries()) {
    senders.push({
      relayId: `benchrelay${String(n).padStart(22, "0")}`, // 32 base64url characters, as RELAY_ID wants
      tenantId: t.id,
      senderId: `snd_bench${n}`,
      projectId: `sa_bench${n}`, // provisionTenants' sub_account_id
      zavuSecret: `whsec_zavu_bench_${n}`,
      customerSecret: `whsec_customer_bench_${n}`,
    });
  }
  for (let start = 0; start < senders.length; start += 50) {
    const statements = [];
    for (const s of senders.slice(start, start + 50)) {
      statements.push(
        db
          .prepare(
            `INSERT INTO tenant_senders (relay_id, tenant_id, sender_id, webhook_url, webhook_events, webhook_active,
               signature_version, secret_ciphertext, upstream_secret_ciphertext, created_at, updated_at, deleted_at)
             VALUES (?, ?, ?, ?, ?, 1, 'v2', ?, ?, ?, ?, NULL)`,
          )
          .bind(
            s.relayId,
            s.tenantId,
            s.senderId,
            WEBHOOK_URL,
            JSON.stringify(["message.delivered", "message.failed", "message.inbound"]),
            await sealForBench(`sender:${s.relayId}`, s.customerSecret),
            await sealForBench(`zavu-sender:${s.relayId}`, s.zavuSecret),
            now,
            now,
          ),
      );
    }
    await db.batch(statements);
  }
  return senders;
}

/** A message.delivered event as Zavu would post it for `sender`, signed v2 at t = now. */
export function zavuEvent(sender, id) {
  const now = Date.now();
  const body = JSON.stringify({
    id,
    type: "message.delivered",
    timestamp: now,
    senderId: sender.senderId,
    projectId: sender.projectId,
    data: {
      messageId: `msg_${id}`,
      channel: "sms",
      status: "delivered",
      to: "+15551234567",
      createdAt: new Date(now - 2000).toISOString(),
      costTotal: 0.01,
    },
  });
  const t = Math.floor(now / 1000);
  return { id, sender, body, signature: `t=${t},v2=${hmacHex(sender.zavuSecret, `${t}.${body}`)}` };
}

/** Whether the customer's X-Zavu-Signature is v2 over exactly the body Zavu sent, with the customer's secret. */
function customerSignatureOk(header, event) {
  const parts = Object.fromEntries(
    (header ?? "").split(",").map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]),
  );
  if (!parts.t || !/^[0-9a-f]{64}$/.test(parts.v2 ?? "")) return false;
  const expected = hmacHex(event.sender.customerSecret, `${parts.t}.${event.body}`);
  return timingSafeEqual(Buffer.from(parts.v2), Buffer.from(expected));
}

/**
 * Runs the relay scenario in a runtime of its own. Every event must be answered 200 with the expected
 * `duplicate` flag and reach the customer exactly once, correctly signed: otherwise `problems` says
 * what went wrong and the figures are not valid.
 */
export async function relayScenario(
  script,
  idps,
  { senders: senderCount, events: eventCount, concurrency, plan, log },
) {
  const rt = await startRuntime(script, idps.remoteJwks);
  const problems = [];
  const sent = new Map(); // event id -> event, every distinct event posted
  const problem = (text) => {
    if (problems.length < 20) problems.push(text);
  };

  const post = async (event, expectDuplicate = false) => {
    const started = nowMs();
    const res = await fetch(`${rt.gateway}/relay/zavu/${event.sender.relayId}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-zavu-signature": event.signature },
      body: event.body,
    });
    const text = await res.text();
    const ms = nowMs() - started;
    sent.set(event.id, event);
    let answer = null;
    try {
      answer = JSON.parse(text);
    } catch {}
    if (res.status !== 200 || answer?.received !== true || answer?.duplicate !== expectDuplicate)
      problem(
        `${event.id}: relay answered ${res.status} ${text.slice(0, 200)} (expected duplicate=${expectDuplicate})`,
      );
    return { startedAt: started, ms };
  };
  /** Posts the events at a fixed concurrency; the answers' latencies, in order. */
  const postAll = async (events, conc) => {
    const latencies = [];
    let i = 0;
    const worker = async () => {
      while (i < events.length) latencies.push((await post(events[i++])).ms);
    };
    await Promise.all(Array.from({ length: conc }, worker));
    return latencies;
  };
  const receipts = async (full = false) => {
    const res = await fetch(`${rt.stub}/__bench/receipts${full ? "?full=1" : ""}`);
    return res.json();
  };
  /** Waits until the receiver has every event posted so far (or the timeout); when it got the last one. */
  const drained = async (timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { events } = await receipts();
      if (events >= sent.size) return nowMs();
      if (Date.now() > deadline) {
        problem(`only ${events} of ${sent.size} events reached the customer within ${timeoutMs / 1000} s`);
        return nowMs();
      }
      await sleep(5);
    }
  };

  try {
    log(`relay: provisioning ${senderCount} tenants with one sender each`);
    const tenants = await provisionTenants(rt.mf, idps, senderCount, 0, plan);
    const senders = await provisionSenders(rt.mf, tenants);
    const make = (prefix, n) =>
      Array.from({ length: n }, (_, i) => zavuEvent(senders[i % senders.length], `evt_${prefix}_${i}`));

    // Warm-up: one event per sender (its Durable Object, the secrets opened once per isolate and object).
    log(`relay: warming ${senderCount} senders`);
    await postAll(make("warm", senderCount), 16);
    await drained();

    // a. Throughput and CPU, the Durable Object's deliveries included.
    const load = make("load", eventCount); // t = now: well inside the 5 min window
    log(`relay: ${eventCount} events over ${senderCount} senders, ${concurrency} at a time`);
    const statsBefore = (await unwrap(adminClient(rt.gateway).GET("/stats"))).counters;
    const cpuBefore = workerdCpuSeconds();
    const started = nowMs();
    const latencies = await postAll(load, concurrency);
    const answered = nowMs();
    const delivered = await drained();
    const cpuSeconds = workerdCpuSeconds() - cpuBefore;
    const statsAfter = (await unwrap(adminClient(rt.gateway).GET("/stats"))).counters;
    const throughput = {
      events: eventCount,
      concurrency,
      cpuUsPerEvent: Math.round((cpuSeconds * 1e6) / eventCount),
      answeredPerSec: Math.round(eventCount / ((answered - started) / 1000)),
      deliveredPerSec: Math.round(eventCount / ((delivered - started) / 1000)),
      lastDeliveryAfterLastAnswerMs: round2(delivered - answered),
      p50: round2(percentile(latencies, 50)),
      p99: round2(percentile(latencies, 99)),
      gatewayIsolatePerEvent: Object.fromEntries(
        Object.keys(statsAfter)
          .filter((k) => statsAfter[k] !== statsBefore[k])
          .map((k) => [k, +((statsAfter[k] - statsBefore[k]) / eventCount).toFixed(3)]),
      ),
    };

    // b. End to end, one event at a time: Zavu's POST -> the customer's receipt.
    const sequential = make("e2e", 200);
    log(`relay: ${sequential.length} events one at a time (end to end)`);
    const sentAt = new Map();
    const answerMs = [];
    for (const event of sequential) {
      const { startedAt, ms } = await post(event);
      sentAt.set(event.id, startedAt);
      answerMs.push(ms);
    }
    await drained();

    // c. Zavu retrying: 50 events posted twice; the second answer says duplicate, and one delivery each.
    const twice = make("dup", 50);
    log(`relay: ${twice.length} events posted twice`);
    for (const event of twice) {
      await post(event);
      await post(event, true);
    }
    await drained();
    await sleep(1000); // room for any second delivery to show up

    // Every event exactly once, signed for the customer over the very body Zavu sent.
    const all = await receipts(true);
    let once = 0;
    for (const [id, event] of sent) {
      const r = all.receipts[id];
      if (!r) problem(`${id}: never delivered`);
      else if (r.count !== 1) problem(`${id}: delivered ${r.count} times`);
      else if (!customerSignatureOk(r.signature, event)) problem(`${id}: the customer's signature does not verify`);
      else once++;
    }
    if (all.deliveries !== sent.size || all.events !== sent.size)
      problem(`the receiver got ${all.deliveries} deliveries of ${all.events} events; ${sent.size} events were sent`);
    const e2e = sequential.map((e) => all.receipts[e.id]?.at - sentAt.get(e.id)).filter(Number.isFinite);
    const dupOnce = twice.filter((e) => all.receipts[e.id]?.count === 1).length;
    if (dupOnce !== twice.length)
      problem(`duplicates: ${twice.length - dupOnce} of ${twice.length} not delivered exactly once`);

    return {
      senders: senderCount,
      webhookUrl: WEBHOOK_URL,
      eventsSent: sent.size,
      deliveredExactlyOnce: once,
      throughput,
      endToEnd: {
        events: sequential.length,
        p50: round2(percentile(e2e, 50)),
        p99: round2(percentile(e2e, 99)),
        answerP50: round2(percentile(answerMs, 50)),
        answerP99: round2(percentile(answerMs, 99)),
      },
      duplicates: { events: twice.length, postedTwice: true, deliveredOnce: dupOnce },
      valid: problems.length === 0,
      problems,
    };
  } finally {
    await rt.mf.dispose();
  }
}
