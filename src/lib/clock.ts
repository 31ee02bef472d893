/** Time as the gateway sees it: the isolate state carries one, so tests can move it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Real time plus an offset a test moves forward (everything the isolate state times, at once). */
export class SteppedClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

/** A clock that moves only when told: for unit tests that check behaviour at exact boundaries. */
export class ManualClock implements Clock {
  constructor(private time = 1_000_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}
