import { describe, expect, it } from "vitest";
import { answerOf } from "./spend";

describe("what a send's answer teaches the budgets and the usage records", () => {
  it("takes Zavu's cost, channel and code as they are when they are sane", () => {
    const a = answerOf(202, JSON.stringify({ message: { costTotal: 0.0375, channel: "sms" } }));
    expect([a.costCents, a.channel, a.code]).toEqual([4, "sms", null]);
    expect(answerOf(429, JSON.stringify({ code: "rate_limited" })).code).toBe("rate_limited");
  });

  it("believes no cost that is not a finite amount up to 10,000 USD, and no code or channel of any length", () => {
    const cost = (raw: string) => answerOf(202, `{"message":{"costTotal":${raw},"channel":"sms"}}`).costCents;
    expect(cost("1e999")).toBeNull(); // JSON.parse makes it Infinity
    expect(cost("-0.01")).toBeNull();
    expect(cost("10001")).toBeNull();
    expect(cost("10000")).toBe(1_000_000);
    expect(answerOf(400, JSON.stringify({ code: "x".repeat(65) })).code).toBeNull();
    expect(answerOf(400, JSON.stringify({ code: "x".repeat(64) })).code).toBe("x".repeat(64));
    expect(answerOf(202, JSON.stringify({ message: { channel: "c".repeat(33) } })).channel).toBeNull();
  });
});
