import { describe, expect, it } from "vitest";
import {
  answeredSince,
  applyRefresh,
  available,
  closeLease,
  creditFailedSend,
  estimateOf,
  grant,
  type LedgerState,
  newLedger,
  outstanding,
  reserve,
  setLimit,
  settle,
} from "./ledger-math";

/** A tenant ledger refreshed at `at`: `limit` cents, none spent, nothing known of costs (estimate: the default, 5). */
function tenant(limit: number, at = 1): LedgerState {
  const s = newLedger("tenant");
  applyRefresh(s, { remaining: limit, limit, spent: 0 }, at);
  return s;
}

/** A strict-zone send answered at `now` without a cost: counted at the estimate until a refresh. */
function unknownSend(s: LedgerState, now: number): void {
  const r = reserve(s, "a", now);
  if (!r.ok) throw new Error("refused");
  settle(s, r.id, null, now);
}

describe("creditFailedSend: a failed send Zavu charged nothing for gives its estimate back", () => {
  it("releases one estimate of a send still counted; a refresh drops the credit with the send", () => {
    const s = tenant(50, 100);
    unknownSend(s, 110);
    unknownSend(s, 120);
    expect(available(s)).toBe(50 - 2 * 5);
    expect(creditFailedSend(s, 105)).toBe(5); // created at 105, after the refresh of 100
    expect(available(s)).toBe(50 - 5);
    expect(answeredSince(s)).toBe(5);
    // Zavu charged 3 for the other send; a refresh that started later includes both.
    applyRefresh(s, { remaining: 47, limit: 50, spent: 3 }, 130);
    expect(Object.keys(s.entries)).toEqual([]);
    expect(available(s)).toBe(47);
    expect(s.learnedCost).toBe(3); // the credited send counted as one that cost nothing, not as a cheap one
  });

  it("does nothing for a send created before the last refresh started: Zavu's figures already cover it", () => {
    const s = tenant(50, 100);
    unknownSend(s, 110);
    expect(creditFailedSend(s, 99)).toBe(0);
    expect(Object.keys(s.entries)).toHaveLength(1);
    expect(available(s)).toBe(45);
  });

  it("never makes the count negative: a credit is at most what is outstanding, and nothing with nothing counted", () => {
    const s = tenant(1_000, 100);
    expect(creditFailedSend(s, 110)).toBe(0);
    expect(Object.keys(s.entries)).toEqual([]);
    const r = reserve(s, "a", 110);
    if (!r.ok) throw new Error("refused");
    settle(s, r.id, 2, 111); // a known cost of 2, less than an estimate (now 2: the largest cost seen)
    s.maxCost = 0;
    s.learnedCost = 0; // the estimate back at the default, 5
    expect(estimateOf(s)).toBe(5);
    expect(creditFailedSend(s, 110)).toBe(2);
    expect(creditFailedSend(s, 110)).toBe(0);
    expect(outstanding(s)).toBe(0);
    expect(available(s)).toBe(1_000);
  });

  it("a send counted in an open lease can be released too, but not below zero", () => {
    const s = tenant(10_000, 100);
    const lease = grant(s, "a", 110);
    if (lease.mode !== "lease") throw new Error("no lease");
    expect(creditFailedSend(s, 112)).toBe(5);
    expect(available(s)).toBe(10_000 - lease.amount + 5);
    expect(answeredSince(s)).toBe(0);
    closeLease(s, lease.id, { known: 0, unknownSends: 3, inFlight: 0 }, 120); // the failed send among them
    expect(available(s)).toBe(10_000 - 2 * 5);
  });

  it("is idempotent per message when given its id, until a refresh makes the send too old anyway", () => {
    const s = tenant(50, 100);
    unknownSend(s, 110);
    unknownSend(s, 111);
    expect(creditFailedSend(s, 105, "msg_1")).toBe(5);
    expect(creditFailedSend(s, 105, "msg_1")).toBe(0);
    expect(available(s)).toBe(45);
    expect(creditFailedSend(s, 106, "msg_2")).toBe(5);
    applyRefresh(s, { remaining: 50, limit: 50, spent: 0 }, 130);
    expect(creditFailedSend(s, 105, "msg_1")).toBe(0);
    expect(available(s)).toBe(50);
  });

  it("a credit dated before a refresh that started meanwhile goes with it: never counted twice", () => {
    const s = tenant(50, 100);
    unknownSend(s, 110);
    expect(creditFailedSend(s, 105)).toBe(5);
    // A refresh that started at 108, after the send was created but before its answer (entry closed at 110):
    applyRefresh(s, { remaining: 50, limit: 50, spent: 0 }, 108);
    expect(available(s)).toBe(45); // the credit is gone (its send may be in Zavu's figures); the send still counts
  });

  it("the team is credited like a tenant; a daily quota never is (the failed send used one of the day's sends)", () => {
    const team = newLedger("team");
    applyRefresh(team, { remaining: 1_000 }, 100);
    unknownSend(team, 110);
    expect(creditFailedSend(team, 105)).toBe(5);
    expect(available(team)).toBe(1_000);

    const quota = newLedger("quota");
    setLimit(quota, 10);
    const r = reserve(quota, "a", 110);
    if (r.ok) settle(quota, r.id, 1, 110);
    expect(creditFailedSend(quota, 110)).toBe(0);
    expect(available(quota)).toBe(9);
  });
});
