import { describe, expect, it } from "vitest";
import { FAILURE_MIN_OUTCOMES, FAILURE_WINDOW, FailureWindow, failureRateAlert } from "./failure-window";

type Outcome = "delivered" | "failed";
const run = (w: FailureWindow, outcomes: Outcome[]) => outcomes.map((o) => w.observe(o));
const times = (n: number, o: Outcome): Outcome[] => Array.from({ length: n }, () => o);
const transitions = (w: FailureWindow, outcomes: Outcome[]) =>
  run(w, outcomes)
    .map((t, i) => (t ? `${i}:${t}` : null))
    .filter(Boolean);

describe("a tenant's delivery failure rate over its last 100 outcomes", () => {
  it("fires once when the rate reaches the threshold, and not again while it stays above", () => {
    const w = new FailureWindow(0.2);
    expect(transitions(w, times(80, "delivered"))).toEqual([]);
    // 80 delivered, then failures: 20 of 100 is 0.2, on the 20th failure.
    expect(transitions(w, times(30, "failed"))).toEqual(["19:firing"]);
    expect([w.firing, w.outcomes, w.failed]).toEqual([true, 100, 30]); // the window slid: 70 + 30
    expect(w.episodes).toBe(1);
  });

  it("clears once when the rate falls back under it, and fires again on the next rise (a new episode)", () => {
    const w = new FailureWindow(0.2);
    run(w, times(20, "failed")); // fires at once: 20 of 20
    expect(w.firing).toBe(true);
    const t = transitions(w, times(100, "delivered"));
    // 20 failures of 21..100 outcomes stays at or above 0.2; the 81st delivered pushes the first failure
    // out of the full window: 19 of 100.
    expect(t).toEqual(["80:cleared"]);
    expect(w.firing).toBe(false);
    expect(transitions(w, times(100, "delivered"))).toEqual([]); // no repeat while below
    expect(transitions(w, times(20, "failed"))).toEqual(["19:firing"]);
    expect(w.episodes).toBe(2);
  });

  it("waits for FAILURE_MIN_OUTCOMES outcomes: a tenant's first failures are not a rate", () => {
    const w = new FailureWindow(0.2);
    expect(transitions(w, times(FAILURE_MIN_OUTCOMES - 1, "failed"))).toEqual([]);
    expect(w.rate).toBe(1);
    expect(w.observe("delivered")).toBe("firing"); // the 20th outcome: 19 of 20 failed
  });

  it("slides: only the last 100 outcomes count", () => {
    const w = new FailureWindow(0.5);
    run(w, times(60, "failed")); // fired at 20
    run(w, times(FAILURE_WINDOW, "delivered"));
    expect([w.outcomes, w.failed, w.rate, w.firing]).toEqual([100, 0, 0, false]);
    run(w, times(49, "failed"));
    expect(w.failed).toBe(49);
    expect(w.observe("failed")).toBe("firing"); // 50 of the last 100
  });

  it("survives storage: the same transitions from a window serialised and parsed at every step", () => {
    const outcomes: Outcome[] = Array.from({ length: 400 }, (_, i) =>
      (i * 7919) % 13 < (i < 200 ? 2 : 5) ? "failed" : "delivered",
    );
    const live = new FailureWindow(0.25);
    let stored = new FailureWindow(0.25).serialise();
    for (const o of outcomes) {
      const w = FailureWindow.parse(stored, 0.25);
      expect(w.observe(o)).toBe(live.observe(o));
      stored = w.serialise();
    }
    expect(stored.length).toBeLessThan(120);
    const back = FailureWindow.parse(stored, 0.25);
    expect([back.outcomes, back.failed, back.firing, back.episodes]).toEqual([
      live.outcomes,
      live.failed,
      live.firing,
      live.episodes,
    ]);
    expect(live.episodes).toBeGreaterThan(0);
    expect(FailureWindow.parse("not json", 0.2).outcomes).toBe(0);
    expect(FailureWindow.parse('{"bits":"zz"}', 0.2).outcomes).toBe(0);
    expect(FailureWindow.parse(null, 0.2).outcomes).toBe(0);
  });

  it("makes events whose id is the same for a repeat: tenant, episode and state", () => {
    const w = new FailureWindow(0.2);
    run(w, times(19, "failed"));
    const state = w.observe("failed");
    expect(state).toBe("firing");
    const event = failureRateAlert("tnt_a", w, state!);
    expect(event).toEqual({
      type: "tenant.delivery.failure_rate",
      tenantId: "tnt_a",
      data: { tenantId: "tnt_a", state: "firing", rate: 1, failed: 20, outcomes: 20, threshold: 0.2 },
      once: "tenant.delivery.failure_rate:tnt_a:1:firing",
    });
    expect(failureRateAlert("tnt_a", w, "firing").once).toBe(event.once);
    run(w, times(100, "delivered"));
    expect(failureRateAlert("tnt_a", w, "cleared").once).toBe("tenant.delivery.failure_rate:tnt_a:1:cleared");
  });
});
