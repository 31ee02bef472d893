import type { Env } from "../env";
import type { Counters } from "../lib/counters";
import { UsageRepo } from "../storage/usage-repo";
import { shardName, USAGE_SHARDS } from "./rows";

/** One usage shard (Durable Object). */
export const usageShard = (env: Env, index: number) => env.USAGE.get(env.USAGE.idFromName(shardName(index)));

/**
 * Writes what every shard holds to D1, so a reader sees every count an isolate has handed over (what
 * is still in an isolate's memory, at most its flush interval's worth, is not included).
 */
export async function flushShards(env: Env, counters: Counters): Promise<void> {
  counters.usageFlushes += USAGE_SHARDS;
  await Promise.all(Array.from({ length: USAGE_SHARDS }, (_, i) => usageShard(env, i).flush()));
}

/**
 * A tenant's accepted sends on a UTC day in the usage records: what the shards hold, then what D1
 * holds (in that order: a row a shard writes meanwhile is counted twice, never missed). What is still
 * in an isolate's memory (at most its flush interval's worth) is not included.
 */
export async function recordedSends(env: Env, counters: Counters, tenantId: string, date: string): Promise<number> {
  counters.usageFlushes += USAGE_SHARDS;
  const held = await Promise.all(
    Array.from({ length: USAGE_SHARDS }, (_, i) => usageShard(env, i).heldSends(tenantId, date)),
  );
  const written = await new UsageRepo(env.DB, counters).sendsOn(tenantId, date);
  return held.reduce((a, b) => a + b, written);
}
