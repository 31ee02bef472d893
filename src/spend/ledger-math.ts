/**
 * The arithmetic of a spend ledger, kept pure so it can be read and tested on its own. A ledger
 * guards one budget: a tenant's credit limit, or the team's balance (in cents), or a tenant's daily
 * quota (in sends). For money, what Zavu last told us is `remaining`; every amount handed out since
 * (leases to isolates, reservations for single sends) is an entry that counts against it until a
 * later refresh from Zavu includes it. A quota's truth is the gateway's own: its count, folded into
 * `spent` as entries are reported (see foldQuota), and the usage records, which settle leases whose
 * holder went silent (see quota-math.ts).
 */

export type LedgerKind = "tenant" | "team" | "quota";
export type RefusalCode = "credit_limit_reached" | "insufficient_balance" | "daily_quota_exceeded";

export interface Entry {
  /** A credit (see creditFailedSend) is closed from the start and worth minus what it releases (`known` < 0). */
  kind: "lease" | "reservation" | "credit";
  holder: string;
  /** Cents held for sends not answered yet: a whole open lease, a reservation's estimate, sends in flight at close. */
  held: number;
  /** Cents of answered sends whose cost Zavu gave. */
  known: number;
  /** Answered sends whose cost Zavu did not give (valued at the current estimate until a refresh). */
  unknownSends: number;
  open: boolean;
  /** When an open entry stops counting as live (its holder is presumed gone). */
  expiresAt: number;
  /** When a closed entry's sends were all answered: a refresh that starts later includes them. */
  closedAt: number;
  /** Closed because its holder went silent (counted in full), not by the holder's own report. */
  expired?: boolean;
  /** A quota claim whose sends the usage records count under its id (see quota-math). */
  tracked?: boolean;
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
  /** The largest cost of one send Zavu gave (cents; 0: none yet). */
  maxCost: number;
  /** What sends without a given cost cost on average, learned from refreshes (cents; 0: not yet). */
  learnedCost: number;
  /** Zavu refused a send (402) since the last refresh. */
  exhausted: RefusalCode | null;
  /** Isolates that asked recently (holder -> last seen): leases are shared out among them. */
  holders: Record<string, number>;
  seq: number;
  /** How long a send can still be in flight (see GRACE_MS). */
  graceMs: number;
  /** Quota ledgers: how long a lease lives far from the quota (QUOTA_LEASE_MS unless configured). */
  quotaLeaseMs?: number;
  /** Quota ledgers: sends the usage records hold that no quota claim made (before the quota, or while it was off). */
  unattributed?: number;
  /** Quota ledgers stored before claims were recorded by id: never recounted. */
  legacy?: boolean;
  /** Quota ledgers: the day's usage records were counted since the ledger started or its quota changed (quota-math recountQuota). */
  seeded?: boolean;
}

export type Grant =
  | { mode: "lease"; id: string; amount: number; expiresAt: number; estimate: number }
  | { mode: "strict"; estimate: number }
  | { mode: "refused"; code: RefusalCode; estimate: number };

export type Reservation = { ok: true; id: string; estimate: number } | { ok: false; code: RefusalCode };

/** What an isolate reports of a lease it no longer takes from. */
export interface LeaseUse {
  known: number;
  unknownSends: number;
  /** Estimates of sends still in flight. */
  inFlight: number;
  /** When a send under it last ended with an unknown outcome (Zavu may count it later); absent: none. */
  unknownAt?: number;
}

/** A lease lives this long far from the edge; its holder renews it earlier when it runs low. */
export const LEASE_MS = 30_000;
/** Leases granted close to the edge live this long, so budget an idle isolate holds comes back soon. */
const NEAR_LEASE_MS = 5_000;
/**
 * Sends still in flight when an entry closes or expires finish within this: the upstream timeout and
 * a margin (the ledger sets it from UPSTREAM_TIMEOUT_MS; this is the default's).
 */
export const GRACE_MS = 12_000;
/**
 * The strict zone: leases must be worth at least this many sends each. Below that, the budget left
 * could not give every active isolate a useful lease, so every send reserves its cost one by one.
 */
export const MIN_LEASE_SENDS = 4;
/** A lease is at most this many sends: an isolate that dies takes at most this much budget for a while. */
export const MAX_LEASE_SENDS = 1_000;
/**
 * Quota leases are smaller: an isolate that dies holding one leaves its unused sends counted until the
 * lease is settled against the usage records (see quota-math). Below QUOTA_MIN_LEASE_SENDS per active
 * isolate, every send reserves its unit one by one (exact).
 */
export const QUOTA_MIN_LEASE_SENDS = 10;
export const QUOTA_MAX_LEASE_SENDS = 100;
/**
 * A large quota's leases may hold up to 1% of the day, QUOTA_LARGEST_LEASE_SENDS at most: each renewal
 * is two ledger calls (the new lease, the old one handed back), and at 100 sends a lease they cost a
 * busy tenant ~30 µs of CPU a request (measured: 244 vs 213 µs in the profile with 1,000).
 */
export const QUOTA_LARGEST_LEASE_SENDS = 1_000;

/** The most sends one quota lease may hold: 100, or 1% of the day's quota up to 1,000. */
export function quotaLeaseCap(limit: number | null): number {
  const onePercent = Math.floor((limit ?? 0) / 100);
  return Math.min(QUOTA_LARGEST_LEASE_SENDS, Math.max(QUOTA_MAX_LEASE_SENDS, onePercent));
}
/**
 * Far from its end, a quota lease lives this long: a tenant that sends less often than a lease lives
 * would otherwise wait for its ledger on every send (measured at 10,000 tenants: 1.02 awaited ledger
 * calls a send, throughput 0.10x). Its holder renews it in the background in its last quarter.
 */
export const QUOTA_LEASE_MS = 10 * 60_000;
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
    learnedCost: 0,
    exhausted: null,
    holders: {},
    seq: 0,
    graceMs: GRACE_MS,
  };
}

/** What one send is expected to cost: the largest cost seen, else what refreshes taught, else the default (a quota: one send). */
export function estimateOf(s: LedgerState, fallback = DEFAULT_ESTIMATE_CENTS): number {
  if (s.kind === "quota") return 1;
  if (s.maxCost > 0) return Math.max(s.maxCost, s.learnedCost);
  return s.learnedCost > 0 ? s.learnedCost : fallback;
}

const worth = (e: Entry, estimate: number) => e.held + e.known + e.unknownSends * estimate;

/** Cents counted against the budget since the last refresh; never negative, whatever credits hold. */
export function outstanding(s: LedgerState, fallback?: number): number {
  const estimate = estimateOf(s, fallback);
  let sum = 0;
  for (const e of Object.values(s.entries)) sum += worth(e, estimate);
  return Math.max(0, sum);
}

/**
 * Cents of sends answered since the last refresh (what is held for sends not answered yet left out);
 * never negative (a credit may release a send still counted in an open lease).
 */
export function answeredSince(s: LedgerState, fallback?: number): number {
  const estimate = estimateOf(s, fallback);
  let sum = 0;
  for (const e of Object.values(s.entries)) sum += e.known + e.unknownSends * estimate;
  return Math.max(0, sum);
}

/** Cents that may still be handed out (Infinity when there is no limit). */
export function available(s: LedgerState, fallback?: number): number {
  return s.remaining === null ? Number.POSITIVE_INFINITY : s.remaining - outstanding(s, fallback);
}

/**
 * Whether one more send may start. As Zavu decides: a tenant may send while its spend is under the
 * limit (the last send can cross it); the team while its balance covers the send.
 */
function mayStart(s: LedgerState, estimate: number, fallback?: number): boolean {
  if (s.exhausted) return false;
  const left = available(s, fallback);
  return s.kind === "tenant" ? left > 0 : left >= estimate;
}

const REFUSALS: Record<LedgerKind, RefusalCode> = {
  tenant: "credit_limit_reached",
  team: "insufficient_balance",
  quota: "daily_quota_exceeded",
};
const refusal = (s: LedgerState): RefusalCode => s.exhausted ?? REFUSALS[s.kind];

/** Open entries whose holder went silent count in full, and close once their sends must be over. */
export function expire(s: LedgerState, now: number): void {
  for (const e of Object.values(s.entries)) {
    if (e.open && e.expiresAt <= now) {
      e.open = false;
      e.expired = true;
      e.closedAt = e.expiresAt + s.graceMs;
    }
  }
  if (s.kind === "quota") foldQuota(s);
}

/**
 * A quota's reported entries become part of its count at once (sends still in flight at close count as
 * sent). Leases whose holder went silent stay counted in full until settled from the usage records
 * (quota-math settleSilentLeases).
 */
export function foldQuota(s: LedgerState): void {
  for (const [id, e] of Object.entries(s.entries)) {
    if (e.open || e.expired) continue;
    s.spent += e.held + e.known + e.unknownSends;
    delete s.entries[id];
  }
  if (s.limit !== null) s.remaining = s.limit - s.spent;
}

/**
 * An isolate hands its usage counts to a shard within a second of a send's answer, and retries for a
 * few more: this long after a lease's last send could have ended, the records hold all of them.
 */
export const USAGE_SETTLE_MS = 15_000;

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

const entry = (kind: Entry["kind"], holder: string, held: number, expiresAt: number): Entry => ({
  kind,
  holder,
  held,
  known: 0,
  unknownSends: 0,
  open: true,
  expiresAt,
  closedAt: 0,
});

/**
 * A lease for `holder`: a share of what is left, smaller as the budget shrinks and as more isolates
 * ask (as quota servers such as Google's Doorman share capacity). None in the strict zone.
 */
export function grant(s: LedgerState, holder: string, now: number, fallback?: number): Grant {
  expire(s, now);
  const estimate = estimateOf(s, fallback);
  if (!mayStart(s, estimate, fallback)) return { mode: "refused", code: refusal(s), estimate };
  const holders = activeHolders(s, holder, now);
  const share = Math.floor(available(s, fallback) / (4 * holders));
  const quota = s.kind === "quota";
  const amount = Math.min(share, (quota ? quotaLeaseCap(s.limit) : MAX_LEASE_SENDS) * estimate);
  if (amount < (quota ? QUOTA_MIN_LEASE_SENDS : MIN_LEASE_SENDS) * estimate) return { mode: "strict", estimate };
  const ttl = share < 50 * estimate ? NEAR_LEASE_MS : quota ? (s.quotaLeaseMs ?? QUOTA_LEASE_MS) : LEASE_MS;
  const id = nextId(s, "l");
  s.entries[id] = entry("lease", holder, amount, now + ttl);
  if (quota) s.entries[id].tracked = true;
  return { mode: "lease", id, amount, expiresAt: now + ttl, estimate };
}

/** A lease handed back: what was spent under it, plus the estimates of sends still in flight. */
export function closeLease(s: LedgerState, id: string, use: LeaseUse, now: number): void {
  const e = s.entries[id];
  if (!e) return;
  // Expired meanwhile: the holder's own account replaces the full amount the ledger assumed.
  e.open = false;
  e.expired = false;
  e.held = Math.max(0, use.inFlight);
  e.known = Math.max(0, use.known);
  e.unknownSends = Math.max(0, use.unknownSends);
  e.closedAt = use.inFlight > 0 ? now + s.graceMs : now;
  // A send whose outcome nobody learned may still be counted by Zavu up to its own deadline after the
  // gateway gave up: a refresh that starts before then must not drop its estimate.
  if (use.unknownAt) e.closedAt = Math.max(e.closedAt, use.unknownAt + s.graceMs);
  if (s.kind === "quota") foldQuota(s);
}

/** The strict zone: one send's estimated cost, reserved before it is forwarded. */
export function reserve(s: LedgerState, holder: string, now: number, fallback?: number): Reservation {
  expire(s, now);
  const estimate = estimateOf(s, fallback);
  activeHolders(s, holder, now);
  if (!mayStart(s, estimate, fallback)) return { ok: false, code: refusal(s) };
  const id = nextId(s, "r");
  s.entries[id] = entry("reservation", holder, estimate, now + s.graceMs);
  if (s.kind === "quota") s.entries[id].tracked = true;
  return { ok: true, id, estimate };
}

/**
 * The send's answer: its real cost when Zavu gave one, else it counts at the estimate until a refresh.
 * An unknown outcome (a timeout, a reset) counts until a refresh that starts after Zavu's own deadline.
 */
export function settle(s: LedgerState, id: string, cost: number | null, now: number, unknownOutcome = false): void {
  const e = s.entries[id];
  if (!e?.open) return;
  e.open = false;
  e.closedAt = unknownOutcome ? now + s.graceMs : now;
  e.held = 0;
  if (cost === null) e.unknownSends = 1;
  else {
    e.known = cost;
    if (s.kind !== "quota") learnCost(s, cost);
  }
  if (s.kind === "quota") foldQuota(s);
}

export function learnCost(s: LedgerState, cost: number): void {
  if (cost > s.maxCost && cost <= 1_000_000) s.maxCost = cost;
}

/**
 * Zavu's figures, fetched by a refresh that started at `startedAt`. Entries closed before then are
 * in those figures and stop counting; open ones and later ones still count. What Zavu charged for
 * the sends whose cost it did not give teaches the estimate.
 */
export function applyRefresh(
  s: LedgerState,
  figures: { remaining: number | null; limit?: number | null; spent?: number },
  startedAt: number,
): void {
  let known = 0;
  let unknownSends = 0;
  for (const [id, e] of Object.entries(s.entries)) {
    if (e.open || e.closedAt >= startedAt) continue;
    // A credit is a send of unknown cost that cost nothing: one send fewer to share what Zavu charged over.
    if (e.kind === "credit") unknownSends--;
    else {
      known += e.known;
      unknownSends += e.unknownSends;
    }
    delete s.entries[id];
  }
  // What the budget lost since the last refresh: spend for a tenant, the balance drop for the team.
  const consumed =
    s.refreshedAt === 0
      ? null
      : s.kind === "tenant"
        ? figures.spent === undefined
          ? null
          : figures.spent - s.spent
        : s.remaining === null || figures.remaining === null
          ? null
          : s.remaining - figures.remaining;
  if (consumed !== null && unknownSends > 0) {
    const perSend = Math.ceil((consumed - known) / unknownSends);
    if (perSend > 0 && perSend <= 1_000_000) s.learnedCost = perSend;
  }
  s.remaining = figures.remaining;
  if (figures.limit !== undefined) s.limit = figures.limit;
  if (figures.spent !== undefined) s.spent = figures.spent;
  s.refreshedAt = startedAt;
  s.exhausted = null;
}

/** Whether Zavu should be asked again: often when close to the edge, rarely when far from it. */
export function refreshDue(s: LedgerState, now: number, fallback?: number): boolean {
  if (s.refreshedAt === 0) return true;
  const close = s.exhausted !== null || available(s, fallback) < 50 * estimateOf(s, fallback) || hasUnknowns(s);
  return now - s.refreshedAt > (close ? 2_000 : 30_000);
}

/** Whether what is counted rests partly on estimates that a refresh from Zavu would replace. */
export function hasUnknowns(s: LedgerState): boolean {
  return Object.values(s.entries).some((e) => !e.open && e.unknownSends > 0);
}

/**
 * Whether a refresh could free budget: closed entries are counted until a refresh that started after
 * they closed, even when Zavu's own total already includes their sends.
 */
export function hasClosed(s: LedgerState): boolean {
  return Object.values(s.entries).some((e) => !e.open);
}

/** An admin changed the tenant's credit limit (or daily quota): it applies at once to what is left. */
export function setLimit(s: LedgerState, limit: number | null): void {
  s.limit = limit;
  s.remaining = limit === null ? null : limit - s.spent;
  s.exhausted = null;
}

/**
 * A send that failed and that Zavu charged nothing for (its message.failed event has costTotal 0),
 * created at `sentAt` (unix ms, Zavu's createdAt): the estimate the ledger counted for it is released
 * by a closed credit worth minus one estimate (at most what is outstanding, so credits never make the
 * ledger's count negative). Only a send the ledger still counts is credited: one created at or after
 * the last refresh started (its entry closed after that, when its answer came). An older one is in
 * Zavu's own figures already, which charge it nothing: crediting it would count it twice. The credit
 * is dated `sentAt`, so the first refresh that started after the send drops it with the send's own
 * entry, or drops it even when that entry is still counted (a release given up, never one counted
 * twice). A quota ledger is never credited: a failed send still used one of the day's sends.
 * With `key` (the message id), a second credit for the same message changes nothing: its credit is
 * in the entries until a refresh that started after `sentAt`, and from then on `sentAt` is too old.
 * Returns the cents released (0: nothing changed).
 */
export function creditFailedSend(s: LedgerState, sentAt: number, key?: string, fallback?: number): number {
  if (s.kind === "quota" || sentAt < s.refreshedAt) return 0;
  const id = key === undefined ? nextId(s, "c") : `c:${key}`;
  if (s.entries[id]) return 0;
  const amount = Math.min(estimateOf(s, fallback), outstanding(s, fallback));
  if (amount <= 0) return 0;
  s.entries[id] = {
    kind: "credit",
    holder: "",
    held: 0,
    known: -amount,
    unknownSends: 0,
    open: false,
    expiresAt: sentAt,
    closedAt: sentAt,
  };
  return amount;
}
