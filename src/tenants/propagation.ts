import type { ChangeInput } from "../control/events";
import { IDENTITY_QUARANTINE_MS } from "../control/events";
import { apiError } from "../errors";
import { Outbox, type Release } from "../storage/outbox";
import type { TenantContext } from "./context";

/**
 * Commits a change to D1 in one batch with the events that announce it (the outbox), then publishes
 * them to the control plane, which every isolate syncs with (see control/events.ts). If the plane
 * cannot be reached the change stays saved and its events stay queued: 503 propagation_pending, and
 * the next admin call or the scheduled maintenance publishes them.
 */
export async function commitChange(
  deps: TenantContext,
  statements: D1PreparedStatement[],
  events: ChangeInput[],
  opts: {
    releases?: Release[] /** Go on when the plane is unreachable (a later commit publishes it). */;
    deferrable?: boolean;
  } = {},
): Promise<{ at: number }> {
  await deps.repo.batch([...statements, new Outbox(deps.db, deps.counters).insert(events, opts.releases)]);
  try {
    return await flushOutbox(deps);
  } catch (err) {
    if (opts.deferrable) return { at: Date.now() };
    throw err;
  }
}

/** Publishes every queued change, oldest first; returns the plane's time of the last publication. */
export async function flushOutbox(deps: TenantContext): Promise<{ at: number; published: number }> {
  const outbox = new Outbox(deps.db, deps.counters);
  let at = 0;
  let published = 0;
  for (;;) {
    const rows = await outbox.pending(50);
    if (rows.length === 0) break;
    let result: { at: number };
    try {
      result = await deps.publish(rows.flatMap((r) => r.events));
    } catch {
      throw apiError("propagation_pending");
    }
    // Published: from now on an isolate honours it within the bound, so released identities wait only the quarantine.
    for (const row of rows) {
      for (const r of row.releases)
        await deps.repo.shortenRelease(r.tenantId, r.identity, result.at + IDENTITY_QUARANTINE_MS);
    }
    await outbox.remove(rows.map((r) => r.id));
    at = result.at;
    published += rows.length;
    if (rows.length < 50) break;
  }
  return { at: at || Date.now(), published };
}
