import { expect, it } from "vitest";
import { effectivePlan, planValueProblem } from "./plan";

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

it("a tenant's own limits win over the defaults, null included", () => {
  const defaults = { requestsPerSecond: 10, sendsPerMinute: 100, dailySends: 1000 };
  expect(effectivePlan(null, defaults)).toEqual(defaults);
  expect(effectivePlan({ dailySends: null, sendsPerMinute: 20 }, defaults)).toEqual({
    requestsPerSecond: 10,
    sendsPerMinute: 20,
    dailySends: null,
  });
});
