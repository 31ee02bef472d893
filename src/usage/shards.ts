import type { Env } from "../env";
import type { Counters } from "../lib/counters";
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
