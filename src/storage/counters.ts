/**
 * Per-isolate counts of the expensive things the hot path must avoid. Cheap increments,
 * read by tests and the benchmark to prove what a request costs (counts, not timings).
 */
export const counters = {
  d1Queries: 0,
  kvReads: 0,
  /** KV reads off the request's path (the status epoch, polled in waitUntil). */
  kvReadsBackground: 0,
  kvWrites: 0,
  jwksFetches: 0,
  keyImports: 0,
  signatureVerifications: 0,
  upstreamCalls: 0,
};

export type Counters = typeof counters;

export function snapshotCounters(): Counters {
  return { ...counters };
}
