import { describe, expect, it } from "vitest";
import {
  applyRefresh,
  available,
  closeLease,
  DEFAULT_ESTIMATE_CENTS,
  estimateOf,
  grant,
  type LedgerState,
  MAX_LEASE_SENDS,
  newLedger,
  reserve,
  settle,
} from "./ledger-math";

/** A tenant ledger Zavu has told: `limit` cents, `spent` of them spent, sends costing `cost` cents so far. */
function tenant(limit: number, spent = 0, cost = 2): LedgerState {
  const s = newLedger("tenant");
  applyRefresh(s, { remaining: limit - spent, limit, spent }, 1);
  s.maxCost = cost;
  return s;
}

describe("ledger arithmetic", () => {
  it("leases shrink as the budget shrinks and as more isolates ask; below four sends each it is the strict zone", () => {
    const s = tenant(4_000);
    const first = grant(s, "a", 10);
    expect(first).toMatchObject({ mode: "lease", amount: 1_000, estimate: 2 }); // a quarter of what is left
    const second = grant(s, "b", 10);
    expect(second).toMatchObject({ mode: "lease", amount: Math.floor(3_000 / 8) }); // two holders now
    expect(grant(tenant(31), "a", 10)).toMatchObject({ mode: "strict" }); // 31/4 = 7 < 4 sends of 2
    expect(grant(tenant(10_000_000, 0, 1), "a", 10)).toMatchObject({ amount: MAX_LEASE_SENDS }); // capped
  });

  it("strict zone: a send may start while spend is under the limit (as Zavu decides), so the last one may cross it", () => {
    const s = tenant(5);
    const r1 = reserve(s, "a", 10);
    const r2 = reserve(s, "a", 10);
    const r3 = reserve(s, "a", 10);
    expect([r1.ok, r2.ok, r3.ok]).toEqual([true, true, true]); // 2 + 2 reserved, 1 left: a third may start
    expect(reserve(s, "a", 10)).toEqual({ ok: false, code: "credit_limit_reached" });
    if (r3.ok) settle(s, r3.id, 0, 11); // refused upstream: nothing charged
    expect(reserve(s, "a", 12).ok).toBe(true);
  });

  it("the team may send only while its balance covers the send", () => {
    const s = newLedger("team");
    applyRefresh(s, { remaining: 3 }, 1);
    s.maxCost = 2;
    expect(reserve(s, "a", 10).ok).toBe(true);
    expect(reserve(s, "a", 10)).toEqual({ ok: false, code: "insufficient_balance" }); // 1 left < 2
  });

  it("a refresh drops what Zavu's figures include (closed before it started), and keeps the rest", () => {
    const s = tenant(100);
    const early = reserve(s, "a", 10);
    const late = reserve(s, "a", 10);
    if (!early.ok || !late.ok) throw new Error("reservations refused");
    settle(s, early.id, 2, 20);
    applyRefresh(s, { remaining: 98, limit: 100, spent: 2 }, 30); // started at 30: includes early, not the open one
    expect(Object.keys(s.entries)).toEqual([late.id]);
    expect(available(s)).toBe(98 - 2);
  });

  it("sends without a cost count at the estimate until a refresh teaches what they cost", () => {
    const s = newLedger("tenant");
    applyRefresh(s, { remaining: 1_000, limit: 1_000, spent: 0 }, 1);
    expect(estimateOf(s)).toBe(DEFAULT_ESTIMATE_CENTS);
    const lease = grant(s, "a", 10);
    if (lease.mode !== "lease") throw new Error("no lease");
    closeLease(s, lease.id, { known: 0, unknownSends: 10, inFlight: 0 }, 20);
    expect(available(s)).toBe(1_000 - 10 * DEFAULT_ESTIMATE_CENTS);
    applyRefresh(s, { remaining: 970, limit: 1_000, spent: 30 }, 30); // Zavu charged 30 for those 10
    expect(s.learnedCost).toBe(3);
    expect(estimateOf(s)).toBe(3);
    expect(available(s)).toBe(970);
  });

  it("a lease whose holder goes silent counts in full until its sends must be over, then leaves with a refresh", () => {
    const s = tenant(10_000);
    const lease = grant(s, "a", 10);
    if (lease.mode !== "lease") throw new Error("no lease");
    reserve(s, "b", lease.expiresAt + 1); // time passes: the lease expires
    const entry = s.entries[lease.id]!;
    expect([entry.open, entry.held]).toEqual([false, lease.amount]);
    expect(entry.closedAt).toBe(lease.expiresAt + s.graceMs);
    applyRefresh(s, { remaining: 10_000, limit: 10_000, spent: 0 }, entry.closedAt + 1);
    expect(s.entries[lease.id]).toBeUndefined();
  });

  it("Zavu's own refusal stops everything until the next refresh", () => {
    const s = tenant(1_000);
    s.exhausted = "credit_limit_reached";
    expect(grant(s, "a", 10)).toMatchObject({ mode: "refused", code: "credit_limit_reached" });
    applyRefresh(s, { remaining: 900, limit: 1_000, spent: 100 }, 20);
    expect(grant(s, "a", 30).mode).toBe("lease");
  });

  it("an unknown outcome (a timeout, a reset) stays counted through refreshes that start before Zavu's own deadline", () => {
    // Zavu may take the send after the gateway gave up: a refresh before then cannot include it.
    const s = tenant(40, 0, 2);
    const r = reserve(s, "a", 1_000);
    if (!r.ok) throw new Error("reserved");
    settle(s, r.id, null, 2_000, true);
    applyRefresh(s, { remaining: 40, limit: 40, spent: 0 }, 2_500); // Zavu has not counted it yet
    expect(available(s)).toBe(40 - 2); // still held at its estimate
    applyRefresh(s, { remaining: 38, limit: 40, spent: 2 }, 2_000 + s.graceMs + 1); // now Zavu's figures have it
    expect(available(s)).toBe(38);

    // The same under a lease: the lease's report says when its last unknown outcome happened.
    const t = tenant(4_000, 0, 2);
    const lease = grant(t, "a", 10);
    if (lease.mode !== "lease") throw new Error("lease");
    closeLease(t, lease.id, { known: 0, unknownSends: 1, inFlight: 0, unknownAt: 3_000 }, 3_100);
    applyRefresh(t, { remaining: 4_000, limit: 4_000, spent: 0 }, 3_200);
    expect(available(t)).toBe(4_000 - 2);
    // A known outcome closes at once, as before: a refresh after it replaces it.
    const u = tenant(4_000, 0, 2);
    const other = grant(u, "a", 10);
    if (other.mode !== "lease") throw new Error("lease");
    closeLease(u, other.id, { known: 0, unknownSends: 1, inFlight: 0 }, 3_100);
    applyRefresh(u, { remaining: 3_998, limit: 4_000, spent: 2 }, 3_200);
    expect(available(u)).toBe(3_998);
  });
});
