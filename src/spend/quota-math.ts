/**
 * A daily quota's ledger against the usage records (src/usage). Each send an isolate admits under a
 * quota claim (a lease or a reservation) is recorded with that claim's id, in the same batch as the
 * send's usage row. Two moments need the records:
 * - a ledger that starts in the middle of a day, or whose quota changed, counts the day's sends that no
 *   quota claim made (the quota was off, or not there yet);
 * - a lease whose holder went silent (an isolate that died, or was evicted while idle, before it
 *   reported) is charged what was sent under it, instead of counting in full for the rest of the day.
 * Pure, like ledger-math: the Durable Object reads the records and calls these.
 */
import { type LedgerState, USAGE_SETTLE_MS } from "./ledger-math";

/** What one quota claim's sends came to in the usage records: accepted, and outcome unknown (counted). */
export interface ClaimUse {
  sent: number;
  unknown: number;
}

/** The usage records of a tenant's day, as a quota ledger reads them. */
export interface QuotaRecords {
  /** Sends Zavu accepted that day. */
  sends: number;
  /** Of those, the ones a quota claim made. */
  claimed: number;
  /** The claims asked about, by id. */
  byClaim: Record<string, ClaimUse>;
}

/**
 * Counts the day's sends no quota claim made. It replaces what an earlier recount counted, so
 * recounting again (a quota changed twice, two isolates asking at once) never counts a send twice.
 */
export function recountQuota(s: LedgerState, records: Pick<QuotaRecords, "sends" | "claimed">): void {
  const unattributed = Math.max(0, records.sends - records.claimed);
  s.spent += unattributed - (s.unattributed ?? 0);
  s.unattributed = unattributed;
  s.seeded = true;
  if (s.limit !== null) s.remaining = s.limit - s.spent;
}

/** Silent leases whose sends the usage records hold by `now` (expired, and their holder's records settled). */
export function silentLeases(s: LedgerState, now: number): string[] {
  return Object.entries(s.entries)
    .filter(([, e]) => e.expired && e.kind === "lease" && now >= e.closedAt + USAGE_SETTLE_MS)
    .map(([id]) => id);
}

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

/**
 * Settles the silent leases `ids` from the records of what was sent under each (read at `now` or
 * later): each counts its accepted sends and those of unknown outcome, never more than it held. A
 * lease granted before claims were recorded (`tracked` unset) counts in full. Returns the sends they
 * were charged, in all.
 *
 * What an isolate killed abnormally had not handed to its usage shard yet (its last second) is not in
 * the records, so not charged: docs/known-limits.md.
 */
export function settleSilentLeases(s: LedgerState, ids: string[], byClaim: Record<string, ClaimUse>): number {
  let charged = 0;
  for (const id of ids) {
    const e = s.entries[id];
    if (!e?.expired) continue;
    const use = byClaim[id];
    const sends = e.tracked ? Math.min(e.held, (use?.sent ?? 0) + (use?.unknown ?? 0)) : e.held;
    s.spent += sends;
    charged += sends;
    delete s.entries[id];
  }
  if (s.limit !== null) s.remaining = s.limit - s.spent;
  return charged;
}
