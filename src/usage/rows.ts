import type { UsageRow } from "../storage/usage-repo";

/** The channel of sends whose answer was not read (or refused before one existed). */
export const UNKNOWN_CHANNEL = "unknown";

/** How many usage shards (Durable Objects) there are: each isolate writes to one, chosen by its id. */
export const USAGE_SHARDS = 8;

export const shardName = (index: number) => `usage-${index}`;

/** Adds `b`'s counts into `a` (delivery outcomes too, when `b` has any). */
export function addInto(
  a: UsageRow,
  b: Pick<UsageRow, "sends" | "costCents" | "estimatedCents" | "refusals" | "delivered" | "failed">,
): void {
  a.sends += b.sends;
  a.costCents += b.costCents;
  a.estimatedCents += b.estimatedCents;
  if (b.delivered) a.delivered = (a.delivered ?? 0) + b.delivered;
  if (b.failed) a.failed = (a.failed ?? 0) + b.failed;
  if (b.refusals) {
    a.refusals ??= {};
    for (const [code, n] of Object.entries(b.refusals)) a.refusals[code] = (a.refusals[code] ?? 0) + n;
  }
}

export interface UtcDay {
  date: string;
  startsAt: number;
  endsAt: number;
}

/** The last day asked for: every send asks, and formatting a date each time cost ~8 µs a request. */
let lastDay: UtcDay = { date: "1970-01-01", startsAt: 0, endsAt: 86_400_000 };

/** The UTC date of a time, and when that day ends. */
export function utcDay(now: number): UtcDay {
  if (now >= lastDay.startsAt && now < lastDay.endsAt) return lastDay;
  const start = Math.floor(now / 86_400_000) * 86_400_000;
  const day = { date: new Date(start).toISOString().slice(0, 10), startsAt: start, endsAt: start + 86_400_000 };
  lastDay = day;
  return day;
}
