import { expect, it } from "vitest";
import type { Env } from "../env";
import { RETRY_DELAYS_MS, retryDelay } from "./deliver";

it("retries for more than 24 hours: eight attempts, the last 27.6 hours after the first", () => {
  const env = {} as Env;
  const waits: number[] = [];
  for (let failed = 1; ; failed++) {
    const wait = retryDelay(env, failed);
    if (wait === null) break;
    waits.push(wait);
  }
  expect(waits).toEqual(RETRY_DELAYS_MS);
  expect(waits.length + 1).toBe(8);
  const total = waits.reduce((a, b) => a + b, 0);
  expect(total).toBeGreaterThan(24 * 3_600_000);
  expect(Math.round(total / 360_000) / 10).toBe(27.6);
  expect(retryDelay({ WEBHOOK_RETRY_SCALE: "0.5" } as Env, 1)).toBe(2_500);
});
