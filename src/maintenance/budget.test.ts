import { describe, expect, it } from "vitest";
import { counters } from "../storage/counters";
import { Budget } from "./budget";

describe("maintenance budget", () => {
  it("counts the D1, KV and Zavu calls made since it was created", () => {
    const budget = new Budget(10, Date.now() + 60_000);
    counters.d1Queries += 2;
    counters.upstreamCalls += 3;
    counters.kvReads += 1;
    counters.kvWrites += 1;
    expect(budget.spent).toBe(7);
    expect(budget.remaining).toBe(3);
    expect(budget.allows(3)).toBe(true);
    expect(budget.allows(4)).toBe(false);
  });

  it("a slice is a share of what is left, never more", () => {
    const budget = new Budget(10, Date.now() + 60_000);
    counters.upstreamCalls += 6;
    expect(budget.slice(8).remaining).toBe(4);
    expect(budget.slice(2).remaining).toBe(2);
  });

  it("allows nothing after its deadline", () => {
    expect(new Budget(100, Date.now() - 1).allows(1)).toBe(false);
  });
});
