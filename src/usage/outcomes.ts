import type { Env } from "../env";
import type { Counters } from "../lib/counters";
import { UNKNOWN_CHANNEL, USAGE_SHARDS, utcDay } from "./rows";
import { usageShard } from "./shards";

/** What became of a message Zavu accepted, as its message.delivered / message.failed event says. */
export interface DeliveryOutcome {
  /** Zavu's event id: the shard's batch id is derived from it, so a retried call counts once. */
  eventId: string;
  tenantId: string;
  /** When the event happened (unix ms): the UTC day it is counted on. */
  at: number;
  /** The message's channel; null (not given) is counted under "unknown". */
  channel: string | null;
  outcome: "delivered" | "failed";
}

/**
 * The usage shard a tenant's outcomes go to: a hash of the tenant id (31-polynomial, like an
 * isolate's own shard choice), so every outcome of one tenant, day and channel adds to one pending row
 * in one shard, and D1 gets one row write per tenant, day and channel per shard flush, however many
 * events came. The load is spread over the shards by tenant.
 */
export function outcomeShard(tenantId: string): number {
  let h = 0;
  for (let i = 0; i < tenantId.length; i++) h = (h * 31 + tenantId.charCodeAt(i)) >>> 0;
  return h % USAGE_SHARDS;
}

/** The shard batch id of an event's outcome: a shard applies a batch id once (it remembers them an hour). */
export const outcomeBatchId = (eventId: string) => `outcome:${eventId}`;

/**
 * Counts one delivery outcome in the tenant's usage record (tenant, UTC day of the event, channel):
 * one row with delivered or failed = 1 and nothing else, handed to a usage shard as its own batch. A
 * second call with the same event id within an hour (a retry after a lost answer) counts nothing;
 * the caller deduplicates events for longer. Resolves once the shard has stored it; D1 has it within
 * about a minute, or at once for a reader (readers flush the shards first).
 *
 * The day is the event's, not the send's: a message sent at 23:59 and delivered at 00:01 counts its
 * send on one day and its delivery on the next. The channel is the event's: sends whose answer the
 * gateway did not read are under "unknown", so a channel's delivered can exceed its sends.
 */
export async function recordDeliveryOutcome(env: Env, counters: Counters, o: DeliveryOutcome): Promise<void> {
  const row = {
    tenantId: o.tenantId,
    date: utcDay(o.at).date,
    channel: o.channel || UNKNOWN_CHANNEL,
    sends: 0,
    costCents: 0,
    estimatedCents: 0,
    refusals: null,
    delivered: o.outcome === "delivered" ? 1 : 0,
    failed: o.outcome === "failed" ? 1 : 0,
  };
  counters.usageFlushes++;
  await usageShard(env, outcomeShard(o.tenantId)).record(outcomeBatchId(o.eventId), [row]);
}
