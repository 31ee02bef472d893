/**
 * A daily quota's ledger against the usage records: the sends Zavu accepted for the tenant that day,
 * as isolates record them (src/usage). Two moments need them:
 * - a ledger that starts in the middle of a day (the quota was set then) counts the day's earlier sends;
 * - a lease whose holder went silent (an isolate that died, or was evicted while idle, before it
 *   reported) is settled at what the records allow, instead of counting in full for the rest of the day.
 * Pure, like ledger-math: the Durable Object reads the records and calls these.
 */
import { foldQuota, type LedgerState, USAGE_SETTLE_MS } from "./ledger-math";

/**
 * Counts the day's sends the usage records hold (`recorded`) that the ledger does not: all of them for
 * a ledger that starts now (a quota set in the middle of a day counts that day's earlier sends), those
 * made while the tenant had no quota for one whose quota was set again.
 *
 * With nothing in flight the count is rebuilt from the records, exactly. Otherwise the records beyond
 * what folded and reported entries account for are added: sends made under leases still open may be
 * counted twice (never fewer sends than were made); `sentKnown` takes only what is surely outside every
 * entry, so that settling a silent lease later still charges it everything it may have sent.
 */
export function recountQuota(s: LedgerState, recorded: number, now: number): void {
  foldQuota(s, now);
  s.seeded = true;
  const entries = Object.values(s.entries);
  if (entries.length === 0) {
    s.sentKnown = Math.max(0, recorded);
    s.spent = s.sentKnown + (s.countedUnknown ?? 0);
  } else {
    let reported = 0;
    let held = 0;
    for (const e of entries) {
      if (e.open || e.expired) held += e.held;
      else reported += e.known;
    }
    const unaccounted = Math.max(0, recorded - (s.sentKnown ?? 0) - reported);
    s.spent += unaccounted;
    s.sentKnown = (s.sentKnown ?? 0) + Math.max(0, unaccounted - held);
  }
  if (s.limit !== null) s.remaining = s.limit - s.spent;
}

/** Silent leases whose sends the usage records hold by `now` (expired, and their holder's records settled). */
function settledSilent(s: LedgerState, now: number): string[] {
  return Object.entries(s.entries)
    .filter(([, e]) => e.expired && now >= e.closedAt + USAGE_SETTLE_MS)
    .map(([id]) => id);
}

/** Whether silent leases are ready to be settled (after expire() at `now`). */
export const silentDue = (s: LedgerState, now: number) => settledSilent(s, now).length > 0;

/**
 * When the ledger should next settle silent leases (null: it holds none that could go silent): an
 * open lease that is never reported expires, closes a grace later (see expire), and its holder's
 * records settle USAGE_SETTLE_MS after that.
 */
export function nextQuotaSettle(s: LedgerState): number | null {
  let at: number | null = null;
  for (const e of Object.values(s.entries)) {
    if (e.kind !== "lease" || !(e.open || e.expired)) continue;
    const due = (e.open ? e.expiresAt + s.graceMs : e.closedAt) + USAGE_SETTLE_MS;
    at = at === null ? due : Math.min(at, due);
  }
  return at;
}

/** When every closed entry's sends are in the usage records (a postponed settling is tried again then). */
export function quietAt(s: LedgerState): number {
  let at = 0;
  for (const e of Object.values(s.entries)) if (!e.open) at = Math.max(at, e.closedAt + USAGE_SETTLE_MS);
  return at;
}

/**
 * Settles the silent leases against the day's recorded sends (`recorded`, read after `now`). Returns
 * the change in the count, or null when it should be tried again at quietAt() (entries closed moments
 * ago are in the records by then, and the count can then be rebuilt exactly).
 *
 * - No lease open: the count is rebuilt from the records, exactly: the day's accepted sends, plus
 *   those whose outcome nobody learned.
 * - Leases open: each silent lease is charged the recorded sends nothing folded accounts for, at most
 *   its amount. That share may include sends of the open leases (reported later, so counted twice):
 *   never fewer sends than were made; at worst the lease in full, as before it was settled.
 *
 * Sends the records never got (an isolate killed within its flush interval, about a second) and a
 * silent lease's sends whose outcome nobody learned are not seen here: docs/known-limits.md.
 */
export function settleSilentLeases(s: LedgerState, recorded: number, now: number): number | null {
  foldQuota(s, now);
  const silent = settledSilent(s, now);
  if (silent.length === 0) return 0;
  const others = Object.entries(s.entries).filter(([id]) => !silent.includes(id));
  const open = others.some(([, e]) => e.open);
  if (!open && others.length > 0) return null;
  const held = silent.reduce((sum, id) => sum + s.entries[id]!.held, 0);
  for (const id of silent) delete s.entries[id];
  const before = s.spent;
  if (!open) {
    s.sentKnown = Math.max(0, recorded);
    s.spent = s.sentKnown + (s.countedUnknown ?? 0);
  } else {
    s.spent += Math.min(held, Math.max(0, recorded - (s.sentKnown ?? 0)));
  }
  if (s.limit !== null) s.remaining = s.limit - s.spent;
  return s.spent - before;
}
