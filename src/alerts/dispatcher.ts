import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { createCounters } from "../lib/counters";
import { WebhookRepo } from "../storage/webhook-repo";
import { attempt } from "./deliver";

/** Deliveries attempted per alarm (in parallel); more due means another alarm at once. */
const BATCH = 20;
/** An attempt holds its delivery this long: one that dies with its alarm is retried after it. */
const CLAIM_MS = 60_000;
/** Delivered, failed and cancelled deliveries, and their events, are kept this long. */
const KEEP_MS = 30 * 24 * 3_600_000;

/**
 * The webhook dispatcher (one per deployment): attempts every due delivery and schedules its next
 * alarm at the next one due. D1 is the record; this object only keeps time, so it can be evicted
 * (or crash) at any point: a delivery it was attempting is retried once its claim lapses.
 */
export class WebhookDispatcher extends DurableObject<Env> {
  private readonly counters = createCounters();

  /** Something was queued: attempt it now (or at the alarm already set, if that is sooner). */
  async kick(): Promise<void> {
    const now = Date.now();
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > now) await this.ctx.storage.setAlarm(now);
  }

  override async alarm(): Promise<void> {
    const repo = new WebhookRepo(this.env.DB, this.counters);
    const now = Date.now();
    const due = await repo.due(now, BATCH);
    await Promise.all(
      due.map(async (d) => {
        if (await repo.claim(d.id, d.attempts, now + CLAIM_MS)) await attempt(this.env, repo, d, this.counters);
      }),
    );
    if (due.length === BATCH) {
      await this.ctx.storage.setAlarm(Date.now());
      return;
    }
    const next = await repo.nextDue();
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now() + 50));
    else await repo.prune(now - KEEP_MS);
  }
}
