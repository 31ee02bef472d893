import type { Env } from "../env";
import type { Counters } from "../lib/counters";
import type { QuotaRecords } from "../spend/quota-math";
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
 * A tenant's day in the usage records, as its quota ledger reads them: the sends Zavu accepted (what
 * the shards hold, then what D1 holds: a row a shard writes meanwhile is counted twice, never missed),
 * how many of them a quota claim made, and what the claims `ids` came to. What is still in an
 * isolate's memory (at most its flush interval's worth) is not included.
 */
export async function quotaRecords(
  env: Env,
  counters: Counters,
  tenantId: string,
  date: string,
  ids: string[],
): Promise<QuotaRecords> {
  counters.usageFlushes += USAGE_SHARDS;
  const parts = await Promise.all(
    Array.from({ length: USAGE_SHARDS }, (_, i) => usageShard(env, i).quotaCounts(tenantId, date, ids)),
  );
  const written = await new UsageRepo(env.DB, counters).sendsOn(tenantId, date);
  const records: QuotaRecords = { sends: written, claimed: 0, byClaim: {} };
  for (const part of parts) {
    records.sends += part.heldSends;
    records.claimed += part.claimed;
    for (const [id, use] of Object.entries(part.byClaim)) {
      const sum = records.byClaim[id];
      records.byClaim[id] = { sent: (sum?.sent ?? 0) + use.sent, unknown: (sum?.unknown ?? 0) + use.unknown };
    }
  }
  return records;
}
