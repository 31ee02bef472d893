import { expect, it } from "vitest";
import { planValueProblem } from "./plan-values";

it("accepts the values the Rate Limiting bindings exist for, and whole daily quotas", () => {
  expect(planValueProblem("requestsPerSecond", 50)).toBeNull();
  expect(planValueProblem("requestsPerSecond", 49)).toMatch(/one of 1, 2, 5/);
  expect(planValueProblem("sendsPerMinute", 10_000)).toBeNull();
  expect(planValueProblem("sendsPerMinute", 60)).not.toBeNull();
  expect(planValueProblem("dailySends", 1)).toBeNull();
  expect(planValueProblem("dailySends", 0)).not.toBeNull();
  expect(planValueProblem("dailySends", 2.5)).not.toBeNull();
  expect(planValueProblem("dailySends", null)).toBeNull();
});
