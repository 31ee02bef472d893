import type { Clock } from "../lib/clock";
import type { Counters } from "../lib/counters";
import {
  BACKGROUND_SYNC_AFTER_MS,
  type ChangeEvent,
  type ChangeInput,
  CONSISTENCY_BOUND_MS,
  type SyncAnswer,
} from "./events";

/** The control plane as an isolate reaches it (a Durable Object stub, or a test double of the same shape). */
export interface ControlPlaneApi {
  sync(since: number): Promise<SyncAnswer>;
  publish(events: ChangeInput[]): Promise<{ epoch: number; at: number }>;
}

export interface ControlListener {
  /** Drop what is cached about these tenants and issuers. */
  onEvents(events: ChangeEvent[]): void;
  /** Drop everything (this isolate fell behind the log, or cannot reach the plane). */
  onReset(): void;
}

/** A sync that has not answered in this long is abandoned: the request goes on without caches. */
const SYNC_TIMEOUT_MS = 2_000;
/** Remembered per tenant and issuer, so a load that raced an event is not cached. */
const RECENT_CHANGES = 10_000;
/** After a failed sync, requests go without caches for this long before one waits for a sync again. */
const SYNC_RETRY_MS = 1_000;
/** Catch-up syncs (see catchUp) start at most this often per isolate; a caller waits this long at most. */
const CATCH_UP_EVERY_MS = 500;
const CATCH_UP_MAX_WAIT_MS = CATCH_UP_EVERY_MS + 2 * SYNC_TIMEOUT_MS;

/**
 * This isolate's view of the control plane. `ensureFresh` is called by every request: it costs a
 * comparison while the view is fresh, starts a background sync when it is getting old, and waits for
 * a sync when it is older than CONSISTENCY_BOUND_MS. When the plane cannot be reached the caches are
 * dropped, so the request reads D1 (correct, slower) instead of trusting what may be stale.
 */
export class ControlSync {
  /** The newest epoch applied. */
  epoch = 0;
  /** Start time of the last sync that succeeded: the age of everything cached. */
  freshAsOf = Number.NEGATIVE_INFINITY;
  private inflight: Promise<boolean> | null = null;
  private inflightStartedAt = 0;
  /** tenant id or "iss:" + issuer -> epoch of its last change. */
  private readonly lastChange = new Map<string, number>();
  private resets = 0;
  /** The epoch of the last reset: loads that started before it cannot be trusted. */
  private resetEpoch = 0;
  private failedAt = Number.NEGATIVE_INFINITY;
  /** Syncs started so far, and the number of the one running (see catchUp). */
  private syncsStarted = 0;
  private inflightSeq = 0;
  private lastCatchUpAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly counters: Counters,
    private readonly listener: ControlListener,
  ) {}

  /** After this isolate published a change: its next request syncs first, so it reads its own writes. */
  invalidate(): void {
    this.freshAsOf = Number.NEGATIVE_INFINITY;
  }

  /** Whether cached state may be used for a request starting now; syncs first when it must. */
  /** `plane` is called only when a sync starts: making a Durable Object stub costs ~10 µs a request. */
  async ensureFresh(plane: () => ControlPlaneApi, waitUntil: (p: Promise<unknown>) => void): Promise<boolean> {
    const age = this.clock.now() - this.freshAsOf;
    if (age < BACKGROUND_SYNC_AFTER_MS) return true;
    if (age < CONSISTENCY_BOUND_MS) {
      if (!this.inflight) {
        this.counters.controlSyncsBackground++;
        waitUntil(this.sync(plane()));
      }
      return true;
    }
    // Just failed: do not make every request wait for a plane that is down; go without caches.
    if (this.clock.now() - this.failedAt < SYNC_RETRY_MS) {
      this.listener.onReset();
      return false;
    }
    this.counters.controlSyncs++;
    const ok = await this.sync(plane());
    if (!ok) {
      this.failedAt = this.clock.now();
      this.listener.onReset();
    }
    return ok;
  }

  /**
   * Waits for a sync that starts after this call, so it applies every event published before the
   * caller's request arrived (a tenant created moments ago in another isolate, whose token is here).
   * Catch-ups start at most every CATCH_UP_EVERY_MS per isolate, after any sync already running, and
   * callers waiting at once share one: a flood of unknown issuers costs the control plane at most 2
   * syncs a second per isolate. Every wait is on the caller's own timers: a sync another request
   * started settles nothing here if that request is cancelled, so the caller gives up after
   * CATCH_UP_MAX_WAIT_MS at most (and goes on as if no event had come).
   */
  catchUp(plane: () => ControlPlaneApi): Promise<void> {
    return withTimeout(this.catchUpAfter(this.syncsStarted, plane), CATCH_UP_MAX_WAIT_MS).catch(() => {});
  }

  private async catchUpAfter(asked: number, plane: () => ControlPlaneApi): Promise<void> {
    const wait = this.lastCatchUpAt + CATCH_UP_EVERY_MS - this.clock.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // A sync started before this call may predate the event: wait it out.
    while (this.inflight && this.inflightSeq <= asked) await this.inflight;
    if (this.inflight || this.syncsStarted > asked) {
      await this.inflight; // one started since (another caller's, or a background sync): enough
      return;
    }
    this.lastCatchUpAt = this.clock.now();
    this.counters.controlCatchUps++;
    await this.sync(plane());
  }

  /** One sync at a time; a request that needs a fresher one than the running sync starts another. */
  private sync(plane: ControlPlaneApi): Promise<boolean> {
    const now = this.clock.now();
    if (this.inflight && now - this.inflightStartedAt < CONSISTENCY_BOUND_MS) return this.inflight;
    const startedAt = now;
    const run = this.run(plane, startedAt).finally(() => {
      if (this.inflight === run) this.inflight = null;
    });
    this.inflight = run;
    this.inflightStartedAt = startedAt;
    this.inflightSeq = ++this.syncsStarted;
    return run;
  }

  private async run(plane: ControlPlaneApi, startedAt: number): Promise<boolean> {
    let answer: SyncAnswer;
    try {
      answer = await withTimeout(plane.sync(this.epoch), SYNC_TIMEOUT_MS);
    } catch {
      return false;
    }
    if (answer.events === null) {
      this.resets++;
      this.resetEpoch = answer.epoch;
      this.lastChange.clear();
      this.listener.onReset();
    } else if (answer.events.length > 0) {
      for (const e of answer.events) {
        if (e.tenantId) this.remember(e.tenantId, e.epoch);
        for (const issuer of e.issuers) this.remember(`iss:${issuer}`, e.epoch);
      }
      this.listener.onEvents(answer.events);
    }
    this.epoch = answer.epoch;
    this.freshAsOf = Math.max(this.freshAsOf, startedAt);
    return true;
  }

  private remember(key: string, epoch: number): void {
    this.lastChange.delete(key);
    this.lastChange.set(key, epoch);
    if (this.lastChange.size > RECENT_CHANGES) this.lastChange.delete(this.lastChange.keys().next().value!);
  }

  /**
   * Whether anything about this tenant or issuer changed after `epoch` (the epoch a D1 read started
   * under). Such a read may predate the change: its result serves the request but is not cached.
   */
  changedSince(epoch: number, tenantId: string | null, issuer: string | null): boolean {
    if (this.epoch === epoch) return false;
    if (epoch < this.resetEpoch) return true; // a reset since then forgot the details
    if (tenantId && (this.lastChange.get(tenantId) ?? 0) > epoch) return true;
    return issuer !== null && (this.lastChange.get(`iss:${issuer}`) ?? 0) > epoch;
  }

  stats() {
    return { epoch: this.epoch, ageMs: Math.max(0, this.clock.now() - this.freshAsOf), resets: this.resets };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
