import { describe, expect, it } from "vitest";
import { shareDrift } from "./reconcile";

const row = (channel: string, estimated_cents: number) => ({ date: "2026-11-23", channel, estimated_cents });

describe("shareDrift", () => {
  it("shares the drift over the estimated records in proportion, to the cent", () => {
    const shares = shareDrift(10, [row("a", 1), row("b", 1), row("c", 1)], null);
    expect(shares.reduce((n, s) => n + s.cents, 0)).toBe(10);
    expect(shares.map((s) => s.cents).sort()).toEqual([3, 3, 4]);
    expect(shares.map((s) => s.estimated)).toEqual([1, 1, 1]);
    const negative = shareDrift(-7, [row("a", 30), row("b", 10)], null);
    expect(negative.map((s) => s.cents)).toEqual([-5, -2]);
  });

  it("with nothing estimated, the drift goes to the latest record", () => {
    expect(shareDrift(4, [], { date: "2026-11-23", channel: "sms" })).toEqual([
      { date: "2026-11-23", channel: "sms", cents: 4, estimated: 0 },
    ]);
    expect(shareDrift(0, [], { date: "2026-11-23", channel: "sms" })).toEqual([]);
  });

  it("settles estimates even when there is no drift", () => {
    expect(shareDrift(0, [row("a", 5)], null)).toEqual([{ date: "2026-11-23", channel: "a", cents: 0, estimated: 5 }]);
  });
});
