import type { AlertEvent } from "../alerts/events";
import { answeredSince, type LedgerState } from "./ledger-math";
import type { LedgerSubject } from "./spend-ledger";

/** What share of a credit limit, counted, makes a tenant.credit.threshold alert (once each per limit). */
export const CREDIT_THRESHOLDS = [80, 100];

/** What alerts a ledger has sent, kept with its state so each goes out once. */
export interface AlertMarks {
  /** The credit limit the thresholds below were crossed under. */
  limit: number | null;
  credit: number[];
  /** The team's balance is under TEAM_BALANCE_LOW_CENTS (alerted once, until it rises above again). */
  low: boolean;
  /** How many times it went low: each time is one team.balance.low event. */
  lowEpisodes: number;
}

export const noMarks = (): AlertMarks => ({ limit: null, credit: [], low: false, lowEpisodes: 0 });

/**
 * The alerts a ledger's state calls for that its marks do not hold yet (and the marks, updated):
 * tenant.credit.threshold when what is counted crosses 80 % and 100 % of the credit limit (or Zavu
 * refused for it), once each per limit; team.balance.low when Zavu's balance falls under `lowCents`,
 * once per fall. Each event's id is derived from what makes it unique, so a repeat is the same event.
 */
export function dueAlerts(
  s: LedgerState,
  subject: LedgerSubject,
  marks: AlertMarks,
  opts: { fallbackEstimate?: number; lowCents: number | null },
): AlertEvent[] {
  const events: AlertEvent[] = [];
  if (subject.kind === "tenant") {
    if (marks.limit !== s.limit) {
      marks.limit = s.limit;
      marks.credit = [];
    }
    if (s.limit === null || s.limit <= 0) return events;
    const counted = s.spent + answeredSince(s, opts.fallbackEstimate);
    for (const threshold of CREDIT_THRESHOLDS) {
      const crossed = counted * 100 >= s.limit * threshold || (threshold === 100 && s.exhausted !== null);
      if (!crossed || marks.credit.includes(threshold)) continue;
      marks.credit.push(threshold);
      events.push({
        type: "tenant.credit.threshold",
        tenantId: subject.tenantId,
        data: { tenantId: subject.tenantId, threshold, creditLimitCents: s.limit, spentCents: counted },
        once: `tenant.credit.threshold:${subject.tenantId}:${s.limit}:${threshold}`,
      });
    }
  } else if (subject.kind === "team" && opts.lowCents !== null && s.remaining !== null && s.refreshedAt > 0) {
    const low = s.remaining < opts.lowCents;
    if (low && !marks.low) {
      marks.lowEpisodes++;
      events.push({
        type: "team.balance.low",
        tenantId: null,
        data: { balanceCents: s.remaining, thresholdCents: opts.lowCents },
        once: `team.balance.low:${marks.lowEpisodes}`,
      });
    }
    marks.low = low;
  }
  return events;
}
