import { describe, expect, it } from "vitest";
import {
  available,
  closeLease,
  expire,
  grant,
  LEASE_MS,
  newLedger,
  QUOTA_FORFEIT_MS,
  QUOTA_MAX_LEASE_SENDS,
  reserve,
  setLimit,
  settle,
} from "./ledger-math";

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

  it("a returned lease counts what was sent under it; one whose holder went silent counts in full, and can still be corrected for a while", () => {
    const s = quota(1_000);
    const g = grant(s, "a", 0);
    if (g.mode !== "lease") throw new Error("expected a lease");
    closeLease(s, g.id, { known: 7, unknownSends: 1, inFlight: 0 }, 10);
    expect(s.spent).toBe(8);
    const h = grant(s, "b", 20);
    if (h.mode !== "lease") throw new Error("expected a lease");
    expire(s, 20 + LEASE_MS + 1); // b went silent
    expect(available(s)).toBe(1_000 - 8 - h.amount);
    closeLease(s, h.id, { known: 3, unknownSends: 0, inFlight: 0 }, 20 + LEASE_MS + 2); // b reports after all
    expect(s.spent).toBe(11);
    const k = grant(s, "c", 100_000);
    if (k.mode !== "lease") throw new Error("expected a lease");
    expire(s, 100_000 + LEASE_MS + QUOTA_FORFEIT_MS + s.graceMs + 1); // c never does: forfeited
    expect(s.spent).toBe(11 + k.amount);
  });

  it("a lowered limit applies at once to what is left", () => {
    const s = quota(100);
    const r = reserve(s, "a", 0);
    if (r.ok) settle(s, r.id, 1, 0);
    setLimit(s, 1);
    expect(reserve(s, "a", 0)).toEqual({ ok: false, code: "daily_quota_exceeded" });
  });
});
