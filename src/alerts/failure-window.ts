import type { AlertEvent } from "./events";

/** The outcomes a tenant's failure rate is taken over: its last 100 (delivered or failed). */
export const FAILURE_WINDOW = 100;
/**
 * No alert before this many outcomes are in the window: 2 failures of a tenant's first 3 messages
 * are not a failure rate. (Clearing needs no minimum: the window only fills up.)
 */
export const FAILURE_MIN_OUTCOMES = 20;

export type FailureTransition = "firing" | "cleared";

/** The window as stored (JSON, about 90 bytes): see FailureWindow.serialise. */
interface Stored {
  /** The ring: FAILURE_WINDOW bits, 1 = failed, as hex (4 bits a character, bit i of the ring in character i >> 2). */
  bits: string;
  /** Where the next outcome goes in the ring. */
  head: number;
  /** Outcomes in the ring (at most FAILURE_WINDOW). */
  seen: number;
  firing: boolean;
  /** How many times it fired: each firing and its clearing share this number (their event ids derive from it). */
  episodes: number;
}

const HEX_CHARS = FAILURE_WINDOW / 4;

/**
 * A tenant's delivery failure rate over its last FAILURE_WINDOW outcomes, as a ring of bits, and
 * whether it is above the alert's threshold. `observe` tells the transitions only: "firing" when the
 * rate reaches the threshold from below (with at least FAILURE_MIN_OUTCOMES outcomes in the window),
 * "cleared" when it falls back under it, null otherwise (no repeat while it stays on one side). Pure
 * and small: the relay's per-tenant Durable Object keeps it in its storage (serialise / parse) and
 * observes each event once.
 */
export class FailureWindow {
  private readonly ring = new Uint8Array(FAILURE_WINDOW);
  private head = 0;
  private seen = 0;
  private failedCount = 0;
  private isFiring = false;
  private episodeCount = 0;

  /** `threshold`: the share of failures that fires (config's deliveryFailureAlertRate), 0 < threshold <= 1. */
  constructor(readonly threshold: number) {}

  /** A stored window (anything unreadable: a new, empty one), judged against `threshold`. */
  static parse(stored: string | null | undefined, threshold: number): FailureWindow {
    const w = new FailureWindow(threshold);
    if (!stored) return w;
    try {
      const s = JSON.parse(stored) as Stored;
      if (typeof s.bits !== "string" || s.bits.length !== HEX_CHARS || !/^[0-9a-f]*$/.test(s.bits)) return w;
      if (!(Number.isInteger(s.head) && s.head >= 0 && s.head < FAILURE_WINDOW)) return w;
      if (!(Number.isInteger(s.seen) && s.seen >= 0 && s.seen <= FAILURE_WINDOW)) return w;
      for (let i = 0; i < FAILURE_WINDOW; i++) {
        w.ring[i] = (Number.parseInt(s.bits[i >> 2]!, 16) >> (i & 3)) & 1;
        w.failedCount += w.ring[i]!;
      }
      w.head = s.head;
      w.seen = s.seen;
      w.isFiring = s.firing === true;
      w.episodeCount = Number.isInteger(s.episodes) && s.episodes >= 0 ? s.episodes : 0;
    } catch {
      return new FailureWindow(threshold);
    }
    return w;
  }

  serialise(): string {
    let bits = "";
    for (let c = 0; c < HEX_CHARS; c++) {
      let nibble = 0;
      for (let b = 0; b < 4; b++) nibble |= this.ring[c * 4 + b]! << b;
      bits += nibble.toString(16);
    }
    const s: Stored = { bits, head: this.head, seen: this.seen, firing: this.isFiring, episodes: this.episodeCount };
    return JSON.stringify(s);
  }

  /** One outcome (in the order they happened, each once): the transition it makes, if any. */
  observe(outcome: "delivered" | "failed"): FailureTransition | null {
    const bit = outcome === "failed" ? 1 : 0;
    if (this.seen === FAILURE_WINDOW) this.failedCount -= this.ring[this.head]!;
    else this.seen++;
    this.ring[this.head] = bit;
    this.failedCount += bit;
    this.head = (this.head + 1) % FAILURE_WINDOW;
    const above = this.failedCount / this.seen >= this.threshold; // a ratio of integers: 20/100 is 0.2 exactly
    if (!this.isFiring && above && this.seen >= FAILURE_MIN_OUTCOMES) {
      this.isFiring = true;
      this.episodeCount++;
      return "firing";
    }
    if (this.isFiring && !above) {
      this.isFiring = false;
      return "cleared";
    }
    return null;
  }

  get firing(): boolean {
    return this.isFiring;
  }
  /** Outcomes in the window. */
  get outcomes(): number {
    return this.seen;
  }
  /** Failures in the window. */
  get failed(): number {
    return this.failedCount;
  }
  /** failed / outcomes (0 with none). */
  get rate(): number {
    return this.seen === 0 ? 0 : this.failedCount / this.seen;
  }
  /** How many times it fired: the episode a firing and its clearing belong to. */
  get episodes(): number {
    return this.episodeCount;
  }
}

/**
 * The tenant.delivery.failure_rate event of a transition `observe` just returned. Its id derives from
 * the tenant, the episode and the state, so emitting it again (a retry, a Durable Object that
 * observed the same event again after a crash) is the same event: one delivery per webhook.
 */
export function failureRateAlert(tenantId: string, window: FailureWindow, state: FailureTransition): AlertEvent {
  return {
    type: "tenant.delivery.failure_rate",
    tenantId,
    data: {
      tenantId,
      state,
      rate: Math.round(window.rate * 10_000) / 10_000,
      failed: window.failed,
      outcomes: window.outcomes,
      threshold: window.threshold,
    },
    once: `tenant.delivery.failure_rate:${tenantId}:${window.episodes}:${state}`,
  };
}
