import { describe, expect, it } from "vitest";
import { BoundedCache } from "./bounded-cache";
import { SteppedClock } from "./clock";

describe("BoundedCache", () => {
  it("never holds more than maxEntries: the oldest insertion goes first, and a hit does not reorder", () => {
    const cache = new BoundedCache<string, number>({ maxEntries: 3, ttlMs: 60_000, clock: new SteppedClock() });
    for (const [i, key] of ["a", "b", "c"].entries()) cache.set(key, i);
    expect(cache.get("a")).toBe(0); // a hit, but "a" stays the oldest
    cache.set("d", 3);
    expect([cache.get("a"), cache.get("b"), cache.get("d")]).toEqual([undefined, 1, 3]);
    expect(cache.stats()).toEqual({ size: 3, max: 3 });
  });

  it("expires each entry after its own time to live, by the clock it was given", () => {
    const clock = new SteppedClock();
    const cache = new BoundedCache<string, string>({ maxEntries: 10, ttlMs: 1_000, clock });
    cache.set("short", "x", 100);
    cache.set("default", "y");
    clock.advance(101);
    expect([cache.get("short"), cache.get("default")]).toEqual([undefined, "y"]);
    clock.advance(1_000);
    expect(cache.get("default")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("drops expired entries nobody asks for again as new ones come, two per insertion, oldest first", () => {
    const clock = new SteppedClock();
    const cache = new BoundedCache<string, number>({ maxEntries: 100, ttlMs: 1_000, clock });
    for (let i = 0; i < 5; i++) cache.set(`old${i}`, i);
    cache.set("long", 9, 60_000);
    clock.advance(1_001);
    cache.set("a", 1);
    expect(cache.size).toBe(5); // old0 and old1 went: 3 expired left, "long" and "a"
    cache.set("b", 2);
    cache.set("c", 3);
    expect(cache.size).toBe(4); // every expired one went; the sweep stops at "long", which is live
    expect([cache.get("long"), cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([9, 1, 2, 3]);
  });

  it("keeps the total weight under maxWeight, and refuses an entry heavier than all of it", () => {
    const cache = new BoundedCache<string, boolean>({
      maxEntries: 100,
      ttlMs: 60_000,
      clock: new SteppedClock(),
      weigh: (key) => key.length,
      maxWeight: 10,
    });
    cache.set("aaaa", true);
    cache.set("bbbb", true);
    cache.set("cccc", true); // 12 > 10: "aaaa" goes
    expect([cache.get("aaaa"), cache.get("bbbb"), cache.get("cccc")]).toEqual([undefined, true, true]);
    cache.set("x".repeat(11), true);
    expect(cache.stats()).toEqual({ size: 2, max: 100, bytes: 8, maxBytes: 10 });
  });
});
