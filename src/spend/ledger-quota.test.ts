import { describe, expect, it } from "vitest";
import {
  available,
  closeLease,
  expire,
  foldQuota,
  grant,
  newLedger,
  QUOTA_LARGEST_LEASE_SENDS,
  QUOTA_LEASE_MS,
  QUOTA_MAX_LEASE_SENDS,
  reserve,
  setLimit,
  settle,
  USAGE_SETTLE_MS,
} from "./ledger-math";
import { nextQuotaSettle, recountQuota, settleSilentLeases, silentLeases } from "./quota-math";

/** A day's quota ledger of `limit` sends. */
function quota(limit: number) {
  const s = newLedger("quota");
  setLimit(s, limit);
  return s;
}

describe("a daily quota as a ledger counted in sends", () => {
  it("costs one unit a send, whatever money costs; is never refused by anything but its own count", () => {
    const s = quota(3);
    for (let i = 0; i < 3; i++) {
      const r = reserve(s, "a", 0);
      expect(r).toMatchObject({ ok: true, estimate: 1 });
      if (r.ok) settle(s, r.id, 1, 0);
    }
    expect(reserve(s, "a", 0)).toEqual({ ok: false, code: "daily_quota_exceeded" });
    expect(s.spent).toBe(3);
    expect(Object.keys(s.entries)).toEqual([]); // folded: a quota has no refresh to wait for
  });

  it("a send that was not made gives its unit back; one whose fate is unknown counts", () => {
    const s = quota(2);
    const a = reserve(s, "a", 0);
    const b = reserve(s, "a", 0);
    expect(reserve(s, "a", 0).ok).toBe(false);
    if (a.ok) settle(s, a.id, 0, 0); // refused by Zavu: not sent
    if (b.ok) settle(s, b.id, null, 0); // a timeout: perhaps sent
    expect(s.spent).toBe(1);
    expect(reserve(s, "a", 0).ok).toBe(true);
  });

  it("leases far from the end (at most QUOTA_MAX_LEASE_SENDS), every send strict near it", () => {
    const s = quota(10_000);
    const g = grant(s, "a", 0);
    expect(g).toMatchObject({ mode: "lease", amount: QUOTA_MAX_LEASE_SENDS });
    const small = quota(30);
    expect(grant(small, "a", 0).mode).toBe("strict"); // 30 / 4 < 10 sends a lease
  });

  it("a large quota's leases hold up to 1% of the day (1,000 sends at most), never less than 100", () => {
    expect([1_000, 10_000, 50_000, 100_000, 100_000_000].map((limit) => grant(quota(limit), "a", 0))).toMatchObject([
      { mode: "lease", amount: 100 }, // a quarter of what is left would be 250
      { mode: "lease", amount: 100 },
      { mode: "lease", amount: 500 },
      { mode: "lease", amount: QUOTA_LARGEST_LEASE_SENDS },
      { mode: "lease", amount: QUOTA_LARGEST_LEASE_SENDS },
    ]);
  });

  it("a returned lease counts what was sent under it; one whose holder went silent counts in full until settled", () => {
    const s = quota(1_000);
    const g = grant(s, "a", 0);
    if (g.mode !== "lease") throw new Error("expected a lease");
    expect(g.expiresAt).toBe(QUOTA_LEASE_MS); // far from the end: a long lease
    closeLease(s, g.id, { known: 7, unknownSends: 1, inFlight: 0 }, 10);
    expect(s.spent).toBe(8);
    const h = grant(s, "b", 20);
    if (h.mode !== "lease") throw new Error("expected a lease");
    expire(s, 20 + QUOTA_LEASE_MS + 1); // b went silent
    expect(available(s)).toBe(1_000 - 8 - h.amount);
    closeLease(s, h.id, { known: 3, unknownSends: 0, inFlight: 0 }, 20 + QUOTA_LEASE_MS + 2); // b reports after all
    expect(s.spent).toBe(11);
    const k = grant(s, "c", 100_000);
    if (k.mode !== "lease") throw new Error("expected a lease");
    const late = 100_000 + QUOTA_LEASE_MS + s.graceMs + USAGE_SETTLE_MS + 1;
    expire(s, late); // c never does: counted in full until the usage records settle it
    foldQuota(s);
    expect(available(s)).toBe(1_000 - 11 - k.amount);
  });

  it("a lowered limit applies at once to what is left", () => {
    const s = quota(100);
    const r = reserve(s, "a", 0);
    if (r.ok) settle(s, r.id, 1, 0);
    setLimit(s, 1);
    expect(reserve(s, "a", 0)).toEqual({ ok: false, code: "daily_quota_exceeded" });
  });
});

describe("a daily quota against the usage records", () => {
  it("a ledger that starts mid-day counts the sends no quota claim made (quota set after 6 sends: 2 more)", () => {
    const s = quota(8);
    recountQuota(s, { sends: 6, claimed: 0 });
    for (let i = 0; i < 2; i++) {
      const r = reserve(s, "a", 0);
      expect(r.ok).toBe(true);
      if (r.ok) settle(s, r.id, 1, 0);
    }
    expect(reserve(s, "a", 0)).toEqual({ ok: false, code: "daily_quota_exceeded" });
  });

  it("a recount replaces the last one: counting again (two isolates, a quota changed twice) adds nothing twice", () => {
    const s = quota(100);
    const lease = grant(s, "a", 0); // open, its sends in the records as claimed
    if (lease.mode === "refused") throw new Error("unexpected");
    recountQuota(s, { sends: 10, claimed: 4 }); // 6 made while the quota was off
    recountQuota(s, { sends: 10, claimed: 4 });
    recountQuota(s, { sends: 13, claimed: 7 }); // 3 more under the lease: still 6 unclaimed
    expect(s.spent).toBe(6);
    recountQuota(s, { sends: 15, claimed: 7 }); // 2 more while off again
    expect(s.spent).toBe(8);
  });

  it("a silent lease is charged what was sent under it, whatever else is open; others are not charged again", () => {
    const s = quota(10_000);
    const dead = grant(s, "dead", 0);
    const live = grant(s, "live", 0);
    if (dead.mode !== "lease" || live.mode !== "lease") throw new Error("expected leases");
    const due = nextQuotaSettle(s)!;
    expect(due).toBe(dead.expiresAt + s.graceMs + USAGE_SETTLE_MS);
    expire(s, due - 1);
    expect(silentLeases(s, due - 1)).toEqual([]);
    expire(s, due);
    const silent = silentLeases(s, due);
    expect(silent.sort()).toEqual([dead.id, live.id].sort()); // both expired here: neither reported
    // The records: 3 accepted and 1 unknown under the dead lease, 40 under the other.
    const charged = settleSilentLeases(s, silent, {
      [dead.id]: { sent: 3, unknown: 1 },
      [live.id]: { sent: 40, unknown: 0 },
    });
    expect(charged).toBe(44);
    expect(s.spent).toBe(44);
    expect(Object.keys(s.entries)).toEqual([]);
    // Steady senders: a hundred leases settled one after another are charged their own sends each, once.
    for (let i = 0; i < 100; i++) {
      const g = grant(s, "slow", due + i * QUOTA_LEASE_MS);
      if (g.mode !== "lease") throw new Error("expected a lease");
      const at = g.expiresAt + s.graceMs + USAGE_SETTLE_MS;
      expire(s, at);
      settleSilentLeases(s, silentLeases(s, at), { [g.id]: { sent: 2, unknown: 0 } });
    }
    expect(s.spent).toBe(44 + 200);
  });

  it("a silent lease from before claims were recorded counts in full; one never over its amount", () => {
    const s = quota(1_000);
    const old = grant(s, "a", 0);
    const recent = grant(s, "b", 0);
    if (old.mode !== "lease" || recent.mode !== "lease") throw new Error("expected leases");
    s.entries[old.id]!.tracked = undefined;
    const at = old.expiresAt + s.graceMs + USAGE_SETTLE_MS;
    expire(s, at);
    settleSilentLeases(s, silentLeases(s, at), { [recent.id]: { sent: 10_000, unknown: 0 } });
    expect(s.spent).toBe(old.amount + recent.amount);
  });
});
