import { describe, expect, it } from "vitest";
import type { JobState } from "../storage/maintenance-repo";
import { addCounts } from "./job";
import { nextState } from "./runner";

const idle: JobState = {
  job: "x",
  cursor: null,
  memo: {},
  passStartedAt: null,
  passCounts: {},
  passes: 2,
  lastPassEndedAt: 100,
  lastPassCounts: { done: 9 },
  lastRunAt: 100,
  lastRunCounts: { done: 9 },
  lastError: "upstream_timeout",
  leaseUntil: 999,
};

describe("job state after a run", () => {
  it("a run that stops midway starts a pass and keeps its cursor and counts", () => {
    const next = nextState(idle, "tnt_5", { done: 3 }, undefined, 200);
    expect(next).toMatchObject({
      cursor: "tnt_5",
      passStartedAt: 200,
      passCounts: { done: 3 },
      passes: 2,
      lastPassCounts: { done: 9 },
      lastRunCounts: { done: 3 },
      lastError: null,
    });
  });

  it("the run that finishes a pass closes it with the pass's summed counts", () => {
    const midway = { ...idle, ...nextState(idle, "tnt_5", { done: 3 }, { kekId: "a" }, 200) };
    const next = nextState(midway, null, { done: 4, failed: 1 }, undefined, 300);
    expect(next).toMatchObject({
      cursor: null,
      passStartedAt: null,
      passCounts: {},
      passes: 3,
      lastPassEndedAt: 300,
      lastPassCounts: { done: 7, failed: 1 },
      lastRunCounts: { done: 4, failed: 1 },
      memo: { kekId: "a" }, // kept when the job returns none
    });
  });

  it("a pass done in one run counts only that run", () => {
    expect(nextState(idle, null, { done: 1 }, undefined, 300).lastPassCounts).toEqual({ done: 1 });
  });

  it("adds counts key by key", () => {
    expect(addCounts({ a: 1, b: 2 }, { b: 3, c: 4 })).toEqual({ a: 1, b: 5, c: 4 });
  });
});
