/**
 * Counts of the expensive things the hot path must avoid. One set per isolate (in its
 * IsolateState), incremented where the work happens, read by tests and the benchmark through
 * /admin/v1/stats to prove what a request costs (counts, not timings).
 */
export function createCounters() {
  return {
    d1Queries: 0,
    kvReads: 0,
    /** KV reads off the request's path (in waitUntil). */
    kvReadsBackground: 0,
    kvWrites: 0,
    jwksFetches: 0,
    keyImports: 0,
    signatureVerifications: 0,
    upstreamCalls: 0,
    /** Calls to the control plane (sync of security-relevant changes), awaited by a request. */
    controlSyncs: 0,
    /** Syncs awaited by a token whose issuer this isolate did not know and could not check in D1 (see ControlSync.catchUp). */
    controlCatchUps: 0,
    /** Control-plane syncs run in the background. */
    controlSyncsBackground: 0,
    /** Calls to a spend ledger awaited by a request (a first lease, a strict-zone reservation). */
    ledgerCalls: 0,
    /** Ledger calls off the request's path (lease renewals, settlements). */
    ledgerCallsBackground: 0,
    /** Tokens refused without a D1 query because their issuer is registered nowhere. */
    unknownIssuerRejections: 0,
    /** Rate Limiting binding calls awaited by a request (a tenant's plan: requests per second, sends per minute). */
    rateLimitChecks: 0,
    /** Usage batches handed to a usage shard (off the request's path), and shard flushes asked for by readers. */
    usageFlushes: 0,
    /** Alerts stored for webhooks. */
    alertsEmitted: 0,
    /** Webhook dispatcher calls and delivery attempts. */
    webhookCalls: 0,
    /** Zavu events the relay took (duplicates included), refused (forged, stale, unknown relay, foreign), and delivery attempts to customers. */
    relayEvents: 0,
    relayRefusals: 0,
    relayAttempts: 0,
  };
}

export type Counters = ReturnType<typeof createCounters>;
