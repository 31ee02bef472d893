import { describe, expect, it } from "vitest";
import { createCounters } from "../lib/counters";
import { Budget } from "./budget";

const counters = createCounters();

describe("maintenance budget", () => {
  it("counts the D1, KV, Durable Object and Zavu calls made since it was created", () => {
    const budget = new Budget(counters, 10, Date.now() + 60_000);
    counters.d1Queries += 2;
    counters.upstreamCalls += 3;
    counters.kvReads += 1;
    counters.kvWrites += 1;
    counters.ledgerCalls += 1;
    counters.jwksFetches += 5; // not a subrequest a maintenance run makes
    expect(budget.spent).toBe(8);
    expect(budget.remaining).toBe(2);
    expect(budget.allows(2)).toBe(true);
    expect(budget.allows(3)).toBe(false);
  });

  it("a slice is a share of what is left, never more", () => {
    const budget = new Budget(counters, 10, Date.now() + 60_000);
    counters.upstreamCalls += 6;
    expect(budget.slice(8).remaining).toBe(4);
    expect(budget.slice(2).remaining).toBe(2);
  });

  it("allows nothing after its deadline, on the clock it is given", () => {
    let now = 1_000;
    const budget = new Budget(counters, 100, 2_000, () => now);
    expect(budget.allows(1)).toBe(true);
    now = 2_000;
    expect(budget.allows(1)).toBe(false);
  });
});
