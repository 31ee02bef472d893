import { expect, it } from "vitest";
import { effectivePlan } from "./plan";

it("a tenant's own limits win over the defaults, null included", () => {
  const defaults = { requestsPerSecond: 10, sendsPerMinute: 100, dailySends: 1000 };
  expect(effectivePlan(null, defaults)).toEqual(defaults);
  expect(effectivePlan({ dailySends: null, sendsPerMinute: 20 }, defaults)).toEqual({
    requestsPerSecond: 10,
    sendsPerMinute: 20,
    dailySends: null,
  });
});
