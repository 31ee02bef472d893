import { describe, expect, it } from "vitest";
import {
  available,
  closeLease,
  expire,
  foldQuota,
  grant,
  newLedger,
  QUOTA_LEASE_MS,
  QUOTA_MAX_LEASE_SENDS,
  reserve,
  setLimit,
  settle,
  USAGE_SETTLE_MS,
} from "./ledger-math";
import { nextQuotaSettle, recountQuota, settleSilentLeases, silentDue } from "./quota-math";

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
    expect(available(s)).toBe(0);
    foldQuota(s, USAGE_SETTLE_MS); // folded once the usage records hold the sends
    expect(s.spent).toBe(3);
    expect(s.sentKnown).toBe(3);
    expect(Object.keys(s.entries)).toEqual([]);
  });

  it("a send that was not made gives its unit back; one whose fate is unknown counts", () => {
    const s = quota(2);
    const a = reserve(s, "a", 0);
    const b = reserve(s, "a", 0);
    expect(reserve(s, "a", 0).ok).toBe(false);
    if (a.ok) settle(s, a.id, 0, 0); // refused by Zavu: not sent
    if (b.ok) settle(s, b.id, null, 0); // a timeout: perhaps sent
    foldQuota(s, USAGE_SETTLE_MS);
    expect(s.spent).toBe(1);
    expect(s.countedUnknown).toBe(1);
    expect(reserve(s, "a", 0).ok).toBe(true);
  });

  it("leases far from the end (at most QUOTA_MAX_LEASE_SENDS), every send strict near it", () => {
    const s = quota(10_000);
    const g = grant(s, "a", 0);
    expect(g).toMatchObject({ mode: "lease", amount: QUOTA_MAX_LEASE_SENDS });
    const small = quota(30);
    expect(grant(small, "a", 0).mode).toBe("strict"); // 30 / 4 < 10 sends a lease
  });

  it("a returned lease counts what was sent under it; one whose holder went silent counts in full until settled", () => {
    const s = quota(1_000);
    const g = grant(s, "a", 0);
    if (g.mode !== "lease") throw new Error("expected a lease");
    expect(g.expiresAt).toBe(QUOTA_LEASE_MS); // far from the end: a long lease
    closeLease(s, g.id, { known: 7, unknownSends: 1, inFlight: 0 }, 10);
    foldQuota(s, 10 + USAGE_SETTLE_MS);
    expect(s.spent).toBe(8);
    const h = grant(s, "b", 20);
    if (h.mode !== "lease") throw new Error("expected a lease");
    expire(s, 20 + QUOTA_LEASE_MS + 1); // b went silent
    expect(available(s)).toBe(1_000 - 8 - h.amount);
    closeLease(s, h.id, { known: 3, unknownSends: 0, inFlight: 0 }, 20 + QUOTA_LEASE_MS + 2); // b reports after all
    foldQuota(s, 20 + QUOTA_LEASE_MS + 2 + USAGE_SETTLE_MS);
    expect(s.spent).toBe(11);
    const k = grant(s, "c", 100_000);
    if (k.mode !== "lease") throw new Error("expected a lease");
    const late = 100_000 + QUOTA_LEASE_MS + s.graceMs + USAGE_SETTLE_MS + 1;
    expire(s, late); // c never does: counted in full until the usage records settle it
    foldQuota(s, late);
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
  it("a ledger that starts mid-day counts the sends already made that day (quota set after 6 sends: 2 more)", () => {
    const s = quota(8);
    recountQuota(s, 6, 0);
    for (let i = 0; i < 2; i++) {
      const r = reserve(s, "a", 0);
      expect(r.ok).toBe(true);
      if (r.ok) settle(s, r.id, 1, 0);
    }
    expect(reserve(s, "a", 0)).toEqual({ ok: false, code: "daily_quota_exceeded" });
  });

  it("a silent lease with nothing else in flight: the count is rebuilt from the records, exactly", () => {
    const s = quota(1_000);
    const a = grant(s, "a", 0);
    if (a.mode !== "lease") throw new Error("expected a lease");
    closeLease(s, a.id, { known: 5, unknownSends: 2, inFlight: 0 }, 1_000);
    const b = grant(s, "b", 1_000);
    if (b.mode !== "lease") throw new Error("expected a lease");
    const due = nextQuotaSettle(s)!;
    expect(due).toBe(b.expiresAt + s.graceMs + USAGE_SETTLE_MS);
    expire(s, due - 1);
    expect(silentDue(s, due - 1)).toBe(false);
    expire(s, due);
    expect(silentDue(s, due)).toBe(true);
    // b sent 4 before it died: the records hold 5 + 4 accepted sends; the 2 unknown outcomes still count.
    expect(settleSilentLeases(s, 9, due)).toBe(4); // a's 7 were counted; now 9 accepted + 2 unknown
    expect(s.spent).toBe(11);
    expect(Object.keys(s.entries)).toEqual([]);
    expect(available(s)).toBe(989);
  });

  it("a silent lease while others are open: charged the records nothing folded accounts for, at most its amount", () => {
    const s = quota(10_000);
    const dead = grant(s, "dead", 0);
    const live = grant(s, "live", 0);
    if (dead.mode !== "lease" || live.mode !== "lease") throw new Error("expected leases");
    const half = QUOTA_LEASE_MS / 2;
    closeLease(s, live.id, { known: 4, unknownSends: 0, inFlight: 0 }, half); // live renews and reports
    const renewed = grant(s, "live", half);
    if (renewed.mode !== "lease") throw new Error("expected a lease");
    const due = dead.expiresAt + s.graceMs + USAGE_SETTLE_MS;
    expire(s, due);
    // The records: the dead one's 3 sends, the live one's 4 reported and 2 under its open lease.
    expect(settleSilentLeases(s, 9, due)).toBe(5); // never fewer than the dead one sent, less than its lease
    expect(s.spent).toBe(4 + 5);
    expect(Object.keys(s.entries)).toEqual([renewed.id]);
  });

  it("a quota set again: the records beyond what entries account for count; sentKnown only what is surely outside them", () => {
    const s = quota(100);
    const r = reserve(s, "a", 0);
    if (r.ok) settle(s, r.id, 1, 0); // reported moments ago (not folded yet)
    // The records: that send, and 3 made while the quota was off.
    recountQuota(s, 4, 1_000);
    expect(available(s)).toBe(100 - 4);
    expect(s.sentKnown).toBe(3);
  });

  it("entries reported moments ago: settling waits for their records, then is exact", () => {
    const s = quota(1_000);
    const a = grant(s, "a", 0);
    const b = grant(s, "b", 0);
    if (a.mode !== "lease" || b.mode !== "lease") throw new Error("expected leases");
    const due = b.expiresAt + s.graceMs + USAGE_SETTLE_MS;
    closeLease(s, a.id, { known: 2, unknownSends: 0, inFlight: 0 }, due - 1_000); // a reports late
    expire(s, due);
    expect(settleSilentLeases(s, 2, due)).toBeNull();
    expect(settleSilentLeases(s, 3, due + USAGE_SETTLE_MS)).not.toBeNull();
    expect(s.spent).toBe(3); // a's 2 and b's 1, from the records
  });
});
