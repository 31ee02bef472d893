import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { createCounters } from "../lib/counters";
import { type DueDelivery, WebhookRepo } from "../storage/webhook-repo";
import { type AttemptRecord, attemptOnly } from "./deliver";

/** Deliveries attempted per alarm (in parallel); more due means another alarm at once. */
const BATCH = 20;
/** An attempt holds its delivery this long: one that dies with its alarm is retried after it. */
const CLAIM_MS = 60_000;
/** Delivered, failed and cancelled deliveries, and their events, are kept this long. */
const KEEP_MS = 30 * 24 * 3_600_000;
/** After D1 failed this object: the next alarm, doubling while it keeps failing, up to the cap. */
const RETRY_MS = 1_000;
const RETRY_CAP_MS = 30_000;

/**
 * A delivery whose bookkeeping in D1 failed: its claim (the answer may have been lost after D1 took
 * it), or the record of an attempt made (`record`). Kept in this object's own storage and finished at
 * the next alarm, within seconds, not when a lost claim lapses or the cron comes.
 */
interface FollowUp {
  id: string;
  /** The delivery's attempts before this one (claim and record apply only onto that state). */
  attempts: number;
  record?: AttemptRecord;
}

const FOLLOW_UP = "followup:";

/**
 * The webhook dispatcher (one per deployment): attempts every due delivery and schedules its next
 * alarm at the next one due. D1 is the record; this object only keeps time (and, while D1 fails,
 * what it could not record yet), so it can be evicted (or crash) at any point: a delivery it was
 * attempting is retried once its claim lapses.
 */
export class WebhookDispatcher extends DurableObject<Env> {
  private readonly counters = createCounters();
  private failures = 0;

  /** Something was queued: attempt it now (or at the alarm already set, if that is sooner). */
  async kick(): Promise<void> {
    const now = Date.now();
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > now) await this.ctx.storage.setAlarm(now);
  }

  override async alarm(): Promise<void> {
    const repo = new WebhookRepo(this.env.DB, this.counters);
    try {
      let unfinished = !(await this.followUps(repo));
      const now = Date.now();
      const due = await repo.due(now, BATCH);
      const done = await Promise.all(due.map((d) => this.deliver(repo, d, now)));
      unfinished ||= done.includes(false);
      if (due.length === BATCH) {
        this.failures = 0;
        await this.ctx.storage.setAlarm(Date.now());
        return;
      }
      const next = await repo.nextDue();
      this.failures = unfinished ? this.failures + 1 : 0;
      const soon = unfinished ? Date.now() + this.backoff() : null;
      const at = next === null ? soon : Math.max(next, Date.now() + 50);
      if (at !== null) await this.ctx.storage.setAlarm(soon === null ? at : Math.min(at, soon));
      else await repo.prune(now - KEEP_MS);
    } catch {
      // D1 failed (the due list, the next time): again shortly, not after the platform's retries ran out.
      this.failures++;
      await this.ctx.storage.setAlarm(Date.now() + this.backoff());
    }
  }

  private backoff(): number {
    return Math.min(RETRY_CAP_MS, RETRY_MS * 2 ** Math.max(0, this.failures - 1));
  }

  /**
   * Claims one due delivery, attempts it and records the attempt. False when D1 failed on the way: the
   * delivery is kept as a follow-up (the attempt's result with it, if one was made).
   */
  private async deliver(repo: WebhookRepo, d: DueDelivery, now: number): Promise<boolean> {
    let claimed: boolean;
    try {
      claimed = await repo.claim(d.id, d.attempts, now + CLAIM_MS);
    } catch {
      await this.remember({ id: d.id, attempts: d.attempts });
      return false;
    }
    if (!claimed) return true;
    const record = await attemptOnly(this.env, repo, d, this.counters);
    try {
      await repo.recordAttempt(d.id, d.attempts, record);
      return true;
    } catch {
      await this.remember({ id: d.id, attempts: d.attempts, record });
      return false;
    }
  }

  /** Finishes the follow-ups; false if D1 failed again on one of them (it stays). */
  private async followUps(repo: WebhookRepo): Promise<boolean> {
    const pending = await this.ctx.storage.list<FollowUp>({ prefix: FOLLOW_UP });
    let ok = true;
    for (const [key, f] of pending) {
      try {
        if (f.record) {
          await repo.recordAttempt(f.id, f.attempts, f.record);
        } else {
          // A claim whose answer was lost: attempt it now if it is still as it was (claimed by us or not).
          const d = await repo.dueOne(f.id);
          if (d && d.status === "pending" && d.attempts === f.attempts) {
            await this.ctx.storage.delete(key);
            if (!(await this.deliver(repo, d, Date.now()))) ok = false;
            continue;
          }
        }
        await this.ctx.storage.delete(key);
      } catch {
        ok = false;
      }
    }
    return ok;
  }

  private async remember(f: FollowUp): Promise<void> {
    await this.ctx.storage.put(`${FOLLOW_UP}${f.id}`, f);
  }
}
