import { describe, expect, it } from "vitest";
import { ManualClock } from "../lib/clock";
import { createCounters } from "../lib/counters";
import { type ControlPlaneApi, ControlSync } from "./control-sync";
import { BACKGROUND_SYNC_AFTER_MS, type ChangeEvent, CONSISTENCY_BOUND_MS, type SyncAnswer } from "./events";

/** A control plane in memory: a log the test appends to, and a switch to make it unreachable. */
function plane() {
  const log: ChangeEvent[] = [];
  let down = false;
  const api: ControlPlaneApi = {
    async sync(since: number): Promise<SyncAnswer> {
      if (down) throw new Error("unreachable");
      const epoch = log.length;
      if (since === epoch) return { epoch, events: [] };
      return { epoch, events: since === 0 ? null : log.slice(since) }; // 0: a new isolate, nothing to drop
    },
    async publish() {
      throw new Error("not used");
    },
  };
  return {
    api,
    append: (tenantId: string, issuers: string[] = []) =>
      log.push({ epoch: log.length + 1, at: 0, kind: "tenant.status", tenantId, issuers }),
    setDown: (value: boolean) => {
      down = value;
    },
  };
}

function subject() {
  const clock = new ManualClock();
  const counters = createCounters();
  const seen = { events: [] as ChangeEvent[], resets: 0 };
  const sync = new ControlSync(clock, counters, {
    onEvents: (events) => seen.events.push(...events),
    onReset: () => seen.resets++,
  });
  const background: Promise<unknown>[] = [];
  const waitUntil = (p: Promise<unknown>) => background.push(p);
  return { clock, counters, seen, sync, waitUntil, settle: () => Promise.all(background) };
}

describe("ControlSync: an isolate's view of the control plane", () => {
  it("a new isolate waits for its first sync; then requests go on cached state, syncing in the background as it ages", async () => {
    const p = plane();
    p.append("t1");
    const s = subject();
    expect(await s.sync.ensureFresh(() => p.api, s.waitUntil)).toBe(true);
    expect([s.counters.controlSyncs, s.seen.resets, s.sync.epoch]).toEqual([1, 1, 1]); // started over: nothing to drop
    s.clock.advance(BACKGROUND_SYNC_AFTER_MS - 1);
    expect(await s.sync.ensureFresh(() => p.api, s.waitUntil)).toBe(true);
    expect(s.counters.controlSyncsBackground).toBe(0);
    p.append("t2", ["https://idp.example"]);
    s.clock.advance(1);
    expect(await s.sync.ensureFresh(() => p.api, s.waitUntil)).toBe(true); // answered at once ...
    await s.settle(); // ... while the sync runs beside it
    expect(s.counters.controlSyncsBackground).toBe(1);
    expect(s.seen.events.map((e) => e.tenantId)).toEqual(["t2"]);
  });

  it("waits for a sync once its view is older than the bound, and never uses cached state older than that", async () => {
    const p = plane();
    p.append("t0");
    const s = subject();
    await s.sync.ensureFresh(() => p.api, s.waitUntil);
    p.append("t1");
    s.clock.advance(CONSISTENCY_BOUND_MS);
    expect(await s.sync.ensureFresh(() => p.api, s.waitUntil)).toBe(true);
    expect(s.counters.controlSyncs).toBe(2);
    expect(s.seen.events.map((e) => e.tenantId)).toEqual(["t1"]);
  });

  it("when the plane cannot be reached: no cached state (reset), and for a second no request waits for it", async () => {
    const p = plane();
    const s = subject();
    await s.sync.ensureFresh(() => p.api, s.waitUntil);
    p.setDown(true);
    s.clock.advance(CONSISTENCY_BOUND_MS);
    const resets = s.seen.resets;
    expect(await s.sync.ensureFresh(() => p.api, s.waitUntil)).toBe(false);
    expect(await s.sync.ensureFresh(() => p.api, s.waitUntil)).toBe(false);
    expect(s.counters.controlSyncs).toBe(2); // the second request did not wait for another attempt
    expect(s.seen.resets).toBe(resets + 2);
    p.setDown(false);
    s.clock.advance(1_000);
    expect(await s.sync.ensureFresh(() => p.api, s.waitUntil)).toBe(true);
  });

  it("tells a load that raced an event not to cache what it read", async () => {
    const p = plane();
    p.append("t0");
    const s = subject();
    await s.sync.ensureFresh(() => p.api, s.waitUntil);
    const startedAt = s.sync.epoch;
    p.append("t1", ["https://a.example"]);
    s.clock.advance(CONSISTENCY_BOUND_MS);
    await s.sync.ensureFresh(() => p.api, s.waitUntil);
    expect(s.sync.changedSince(startedAt, "t1", null)).toBe(true);
    expect(s.sync.changedSince(startedAt, null, "https://a.example")).toBe(true);
    expect(s.sync.changedSince(startedAt, "t2", "https://b.example")).toBe(false);
    expect(s.sync.changedSince(s.sync.epoch, "t1", null)).toBe(false);
  });

  it("catchUp waits for a sync that starts after it was asked (not one already running), shared by concurrent callers", async () => {
    const p = plane();
    p.append("t1");
    const s = subject();
    await s.sync.ensureFresh(() => p.api, s.waitUntil);
    // A background sync is on its way to the plane; a tenant is created (its event published) meanwhile.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow: ControlPlaneApi = { ...p.api, sync: (since) => gate.then(() => p.api.sync(since)) };
    const answer = p.api.sync(s.sync.epoch); // what the running sync will bring: the log before the event
    s.clock.advance(BACKGROUND_SYNC_AFTER_MS);
    await s.sync.ensureFresh(() => ({ ...slow, sync: () => gate.then(() => answer) }), s.waitUntil);
    p.append("t2", ["https://new.example"]);
    const asked = [s.sync.catchUp(() => slow), s.sync.catchUp(() => slow)];
    release();
    await Promise.all(asked);
    await s.settle();
    expect(s.seen.events.map((e) => e.tenantId)).toEqual(["t2"]); // the running sync did not have it; theirs did
    expect(s.counters.controlCatchUps).toBe(1);
    // A third caller, once theirs has started, gets one of its own, no sooner than 500 ms after.
    p.append("t3");
    const startedAt = Date.now();
    await s.sync.catchUp(() => p.api);
    expect(s.seen.events.map((e) => e.tenantId)).toEqual(["t2", "t3"]);
    expect(s.counters.controlCatchUps).toBe(2);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(400);
  });
});
