/**
 * The arithmetic of a spend ledger, kept pure so it can be read and tested on its own. A ledger
 * guards one budget: a tenant's credit limit, or the team's balance. What Zavu last told us is
 * `remaining`; every amount handed out since (leases to isolates, reservations for single sends)
 * is an entry that counts against it until a later refresh from Zavu includes it.
 */

export type LedgerKind = "tenant" | "team";
export type RefusalCode = "credit_limit_reached" | "insufficient_balance";

export interface Entry {
  kind: "lease" | "reservation";
  holder: string;
  /** Cents counted against the budget: the lease size or estimate while open, what was used once closed. */
  amount: number;
  open: boolean;
  /** When an open entry stops counting as live (its holder is presumed gone). */
  expiresAt: number;
  /** When a closed entry's sends were all answered: a refresh that starts later includes them. */
  closedAt: number;
  /** Closed with an estimated amount (Zavu gave no cost): only a refresh can tell the truth. */
  estimated: boolean;
}

export interface LedgerState {
  kind: LedgerKind;
  /** Cents Zavu says are left: the credit limit minus totalSpent (tenant), the team balance (team). null: no limit. */
  remaining: number | null;
  /** Tenant ledgers: the credit limit and the totalSpent of the last refresh. */
  limit: number | null;
  spent: number;
  refreshedAt: number;
  entries: Record<string, Entry>;
  /** The largest cost of one send seen so far, in cents (0: none seen): the estimate for the next. */
  maxCost: number;
  /** Zavu refused a send (402) since the last refresh. */
  exhausted: RefusalCode | null;
  /** Isolates that asked recently (holder -> last seen): leases are shared out among them. */
  holders: Record<string, number>;
  seq: number;
}

export type Grant =
  | { mode: "lease"; id: string; amount: number; expiresAt: number; estimate: number }
  | { mode: "strict"; estimate: number }
  | { mode: "refused"; code: RefusalCode; estimate: number };

export type Reservation = { ok: true; id: string; estimate: number } | { ok: false; code: RefusalCode };

/** A lease lives this long; its holder renews it earlier when it runs low. */
export const LEASE_MS = 30_000;
/** Sends still in flight when an entry closes or expires finish within this (the upstream timeout and margin). */
export const GRACE_MS = 20_000;
/**
 * The strict zone: leases must be worth at least this many sends each. Below that, the budget left
 * could not give every active isolate a useful lease, so every send reserves its cost one by one.
 */
export const MIN_LEASE_SENDS = 4;
/** A lease is at most this many sends: an isolate that dies takes at most this much budget for a while. */
export const MAX_LEASE_SENDS = 1_000;
const HOLDER_ACTIVE_MS = 60_000;
/** The estimate before any cost was seen (cents; configurable per deployment as SEND_COST_ESTIMATE_CENTS). */
export const DEFAULT_ESTIMATE_CENTS = 5;

export function newLedger(kind: LedgerKind): LedgerState {
  return {
    kind,
    remaining: null,
    limit: null,
    spent: 0,
    refreshedAt: 0,
    entries: {},
    maxCost: 0,
    exhausted: null,
    holders: {},
    seq: 0,
  };
}

export function estimateOf(s: LedgerState, fallback = DEFAULT_ESTIMATE_CENTS): number {
  return s.maxCost > 0 ? s.maxCost : fallback;
}

export function outstanding(s: LedgerState): number {
  let sum = 0;
  for (const e of Object.values(s.entries)) sum += e.amount;
  return sum;
}

/** Cents that may still be handed out (Infinity when there is no limit). */
export function available(s: LedgerState): number {
  return s.remaining === null ? Number.POSITIVE_INFINITY : s.remaining - outstanding(s);
}

/**
 * Whether one more send may start. As Zavu decides: a tenant may send while its spend is under the
 * limit (the last send can cross it); the team while its balance covers the send.
 */
function mayStart(s: LedgerState, estimate: number): boolean {
  if (s.exhausted) return false;
  const left = available(s);
  return s.kind === "tenant" ? left > 0 : left >= estimate;
}

const refusal = (s: LedgerState): RefusalCode =>
  s.exhausted ?? (s.kind === "tenant" ? "credit_limit_reached" : "insufficient_balance");

/** Open entries whose holder went silent count in full, and close once their sends must be over. */
export function expire(s: LedgerState, now: number): void {
  for (const e of Object.values(s.entries)) {
    if (e.open && e.expiresAt <= now) {
      e.open = false;
      e.closedAt = e.expiresAt + GRACE_MS;
    }
  }
}

function activeHolders(s: LedgerState, holder: string, now: number): number {
  s.holders[holder] = now;
  let n = 0;
  for (const [h, seen] of Object.entries(s.holders)) {
    if (now - seen <= HOLDER_ACTIVE_MS) n++;
    else delete s.holders[h];
  }
  return n;
}

function nextId(s: LedgerState, prefix: string): string {
  s.seq++;
  return `${prefix}${s.seq}`;
}

/**
 * A lease for `holder`: a share of what is left, smaller as the budget shrinks and as more isolates
 * ask (as quota servers such as Google's Doorman share capacity). None in the strict zone.
 */
export function grant(s: LedgerState, holder: string, now: number, fallback?: number): Grant {
  expire(s, now);
  const estimate = estimateOf(s, fallback);
  if (!mayStart(s, estimate)) return { mode: "refused", code: refusal(s), estimate };
  const holders = activeHolders(s, holder, now);
  const share = Math.floor(available(s) / (2 * holders));
  const amount = Math.min(share, MAX_LEASE_SENDS * estimate);
  if (amount < MIN_LEASE_SENDS * estimate) return { mode: "strict", estimate };
  const id = nextId(s, "l");
  s.entries[id] = {
    kind: "lease",
    holder,
    amount,
    open: true,
    expiresAt: now + LEASE_MS,
    closedAt: 0,
    estimated: true,
  };
  return { mode: "lease", id, amount, expiresAt: now + LEASE_MS, estimate };
}

/** A lease handed back: it counts what its holder spent, plus the estimates of sends still in flight. */
export function closeLease(s: LedgerState, id: string, used: number, inFlight: number, now: number): void {
  const e = s.entries[id];
  if (!e?.open) return;
  e.open = false;
  e.amount = Math.max(0, used + inFlight);
  e.closedAt = inFlight > 0 ? now + GRACE_MS : now;
}

/** The strict zone: one send's estimated cost, reserved before it is forwarded. */
export function reserve(s: LedgerState, holder: string, now: number, fallback?: number): Reservation {
  expire(s, now);
  const estimate = estimateOf(s, fallback);
  activeHolders(s, holder, now);
  if (!mayStart(s, estimate)) return { ok: false, code: refusal(s) };
  const id = nextId(s, "r");
  s.entries[id] = {
    kind: "reservation",
    holder,
    amount: estimate,
    open: true,
    expiresAt: now + GRACE_MS,
    closedAt: 0,
    estimated: true,
  };
  return { ok: true, id, estimate };
}

/** The send's answer: its real cost when Zavu gave one, else the estimate stands until a refresh. */
export function settle(s: LedgerState, id: string, cost: number | null, now: number): void {
  const e = s.entries[id];
  if (!e?.open) return;
  e.open = false;
  e.closedAt = now;
  if (cost !== null) {
    e.amount = cost;
    e.estimated = false;
    learnCost(s, cost);
  }
}

export function learnCost(s: LedgerState, cost: number): void {
  if (cost > s.maxCost && cost <= 1_000_000) s.maxCost = cost;
}

/**
 * Zavu's figures, fetched by a refresh that started at `startedAt`. Entries closed before then are
 * in those figures and stop counting; open ones and later ones still count.
 */
export function applyRefresh(
  s: LedgerState,
  figures: { remaining: number | null; limit?: number | null; spent?: number },
  startedAt: number,
): void {
  let knownDropped = 0;
  let estimatedDropped = 0;
  for (const [id, e] of Object.entries(s.entries)) {
    if (e.open || e.closedAt >= startedAt) continue;
    if (e.kind === "reservation" && e.estimated) estimatedDropped++;
    else knownDropped += e.amount;
    delete s.entries[id];
  }
  // Sends answered without a cost: what Zavu charged for them, on average, is the least they cost.
  if (s.kind === "tenant" && figures.spent !== undefined && estimatedDropped > 0) {
    const perSend = Math.ceil((figures.spent - s.spent - knownDropped) / estimatedDropped);
    if (perSend > 0) learnCost(s, perSend);
  }
  s.remaining = figures.remaining;
  if (figures.limit !== undefined) s.limit = figures.limit;
  if (figures.spent !== undefined) s.spent = figures.spent;
  s.refreshedAt = startedAt;
  s.exhausted = null;
}

/** Whether Zavu should be asked again: often when close to the edge, rarely when far from it. */
export function refreshDue(s: LedgerState, now: number): boolean {
  if (s.refreshedAt === 0) return true;
  const close = s.exhausted !== null || available(s) < 20 * estimateOf(s) || hasEstimates(s);
  return now - s.refreshedAt > (close ? 2_000 : 30_000);
}

function hasEstimates(s: LedgerState): boolean {
  return Object.values(s.entries).some((e) => !e.open && e.estimated && e.kind === "reservation");
}

/** An admin changed the tenant's credit limit: it applies at once to what is left. */
export function setLimit(s: LedgerState, limit: number | null): void {
  s.limit = limit;
  s.remaining = limit === null ? null : limit - s.spent;
  s.exhausted = null;
}
