// Daily quotas far from their end: long leases (QUOTA_LEASE_SECONDS, shortened here to 12 s), and what
// isolates that die holding them cost the tenant, until the ledger settles them against the usage records.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, createTenant, sandboxLog, send, sleep, startCluster, stats } from "../harness/cluster";
import { NodeIdp } from "../harness/idp";

/** Longer than a short lease (10 s at most: those go back to the ledger from the request that took them). */
const LEASE_S = 12;
const UPSTREAM_TIMEOUT_MS = 3_000;
/** A silent lease is settled after it expires, a grace for sends in flight (timeout + 2 s), and USAGE_SETTLE_MS (15 s). */
const SETTLED_AFTER_MS = LEASE_S * 1_000 + UPSTREAM_TIMEOUT_MS + 2_000 + 15_000 + 3_000;

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({
    isolates: 3,
    killable: true,
    vars: { QUOTA_LEASE_SECONDS: String(LEASE_S), UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) },
  });
});
afterAll(() => cluster?.stop());

async function onboard(dailySends: number) {
  const idp = await NodeIdp.create();
  const tenant = await createTenant(
    cluster.gateways[0]!,
    { issuer: idp.issuer, jwks: idp.jwks() },
    { plan: { dailySends } },
  );
  return { ...tenant, token: await idp.token() };
}

/** Sends one at a time, round-robin over the isolates, until `n` were accepted or one is refused. */
async function sendUntilRefused(token: string, n: number) {
  let accepted = 0;
  for (let i = 0; accepted < n; i++) {
    const r = await send(cluster.gateways[i % cluster.gateways.length]!, token);
    if (r.status !== 202) return { accepted, refusal: r.code };
    accepted++;
  }
  return { accepted, refusal: null };
}

/** Sends Zavu accepted for the sub-account: the quota is never exceeded where it counts. */
const upstreamSends = async (subAccountId: string | null) =>
  (await sandboxLog(cluster)).filter(
    (r) => r.method === "POST" && r.path === "/v1/messages" && r.subAccountId === subAccountId && r.status === 202,
  ).length;

const awaitedLedgerCalls = async () =>
  (await Promise.all(cluster.gateways.map(stats))).reduce((n, s) => n + (s.counters.ledgerCalls ?? 0), 0);

describe("daily quota leases far from the quota's end", () => {
  it("a tenant that sends again within a lease's life waits for no ledger; a tenant never gets more than its quota", async () => {
    const t = await onboard(2_000);
    // Each isolate takes a lease (a share of what is left: 100 sends each, far from the end).
    for (const g of cluster.gateways) expect((await send(g, t.token)).status).toBe(202);
    const before = await awaitedLedgerCalls();
    for (let i = 0; i < 30; i++) expect((await send(cluster.gateways[i % 3]!, t.token)).status).toBe(202);
    expect((await awaitedLedgerCalls()) - before).toBe(0);
    const rest = await sendUntilRefused(t.token, 3_000);
    expect(rest.refusal).toBe("daily_quota_exceeded");
    expect(33 + rest.accepted).toBeLessThanOrEqual(2_000);
    // Under-admission: what the other isolates still hold when one is refused. Near the end leases are
    // short (5 s) and small (a quarter of what is left, shared among the isolates; none below 10 sends).
    expect(33 + rest.accepted).toBeGreaterThanOrEqual(2_000 - 2 * 50);
    expect(await upstreamSends(t.subAccountId)).toBe(33 + rest.accepted);
    console.log(`[cluster] daily quota 2,000, sent one at a time over 3 isolates: ${33 + rest.accepted} accepted`);
  }, 60_000);

  it("a tenant sending steadily, slower than its sends use a lease up, is charged each send once", async () => {
    const t = await onboard(700);
    // One isolate, one send every 700 ms for three lease lives: each lease is renewed at half its life and
    // the one before goes back at once with what was sent under it.
    const started = Date.now();
    let sent = 0;
    while (Date.now() - started < 3 * LEASE_S * 1_000) {
      expect((await send(cluster.gateways[0]!, t.token)).status).toBe(202);
      sent++;
      await sleep(700);
    }
    const rest = await sendUntilRefused(t.token, 1_000);
    expect(sent + rest.accepted).toBeLessThanOrEqual(700);
    expect(sent + rest.accepted).toBeGreaterThanOrEqual(700 - 2 * 50);
    expect(await upstreamSends(t.subAccountId)).toBe(sent + rest.accepted);
    console.log(`[cluster] daily quota 700, ${sent} steady sends over ${3 * LEASE_S} s, then ${rest.accepted} more`);
  }, 120_000);

  it("an isolate killed holding a lease costs the tenant that lease only until the ledger settles it from the usage records", async () => {
    const t = await onboard(800);
    // Each isolate leases a share of the quota (far from the end: 100, 87 and 51 sends) and uses 2 of it.
    for (let i = 0; i < 6; i++) expect((await send(cluster.gateways[i % 3]!, t.token)).status).toBe(202);
    await sleep(1_200); // the usage records hold those 6 (an isolate hands them over within its flush interval, 1 s)
    await cluster.replaceIsolate(); // the third isolate dies holding its lease (51 sends), unreported
    const killedAt = Date.now();
    // Before the lease is settled, what it held counts as sent: the tenant has at most 745 left.
    const early = await sendUntilRefused(t.token, 800);
    expect(early.refusal).toBe("daily_quota_exceeded");
    expect(early.accepted).toBeLessThanOrEqual(745);
    expect(early.accepted).toBeGreaterThanOrEqual(745 - 2 * 50);
    await sleep(Math.max(0, killedAt + SETTLED_AFTER_MS - Date.now()));
    // Settled: the dead lease counts what its holder sent (2), and the rest of the quota is back.
    const late = await sendUntilRefused(t.token, 800);
    const total = 6 + early.accepted + late.accepted;
    expect(total).toBeLessThanOrEqual(800);
    expect(total).toBeGreaterThanOrEqual(800 - 2 * 50);
    expect(await upstreamSends(t.subAccountId)).toBe(total);
    console.log(
      `[cluster] daily quota 800, an isolate killed after 6 sends over 3: ${early.accepted} more before the ledger settled its lease, ${late.accepted} after (${total} in all)`,
    );
  }, 120_000);
});
