/**
 * When a customer's receiver is tried again after a failed attempt: the first retry within 10 s, then
 * backing off, about 24 hours in all (23.7 h over 11 attempts), as the reseller's own alert webhooks do.
 * Scaled by WEBHOOK_RETRY_SCALE (tests shorten it).
 */
export const EVENT_RETRY_DELAYS_MS = [
  5_000,
  30_000,
  2 * 60_000,
  10 * 60_000,
  30 * 60_000,
  3_600_000,
  2 * 3_600_000,
  4 * 3_600_000,
  8 * 3_600_000,
  8 * 3_600_000,
];

/** The delay before the attempt after `failedAttempts` failed ones; null when there are no more. */
export function eventRetryDelay(failedAttempts: number, scale: number): number | null {
  const base = EVENT_RETRY_DELAYS_MS[failedAttempts - 1];
  return base === undefined ? null : Math.round(base * scale);
}
