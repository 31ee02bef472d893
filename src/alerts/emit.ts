import type { Env } from "../env";
import type { Counters } from "../lib/counters";
import { WebhookRepo } from "../storage/webhook-repo";
import { type AlertEvent, eventId, payloadOf } from "./events";

/** Where the gateway's parts send alerts (the edge, the admin API, the spend ledgers, maintenance). */
export interface AlertSink {
  /** Stores the event and a delivery per subscribed webhook, then wakes the dispatcher. Resolves with the event id. */
  emit(event: AlertEvent): Promise<string>;
  /** The same writes as statements, to commit in the batch of the change the event announces (then `kick`). */
  statements(event: AlertEvent): Promise<D1PreparedStatement[]>;
  /** Wakes the dispatcher: deliveries were queued. */
  kick(): Promise<void>;
}

/** The deployment's one webhook dispatcher (Durable Object): it attempts and retries every delivery. */
export const dispatcherOf = (env: Env) => env.WEBHOOKS.get(env.WEBHOOKS.idFromName("global"));

/**
 * Alerts into D1 (the durable record every delivery is made from), then a nudge to the dispatcher.
 * A lost nudge delays nothing for long: the cron nudges the dispatcher too.
 */
export function alertSink(env: Env, counters: Counters): AlertSink {
  const repo = new WebhookRepo(env.DB, counters);
  const kick = async () => {
    counters.webhookCalls++;
    await dispatcherOf(env).kick();
  };
  const prepared = async (event: AlertEvent) => {
    const now = Date.now();
    const id = await eventId(event.once);
    counters.alertsEmitted++;
    return { id, now, row: { id, type: event.type, tenantId: event.tenantId, payload: payloadOf(event, now) } };
  };
  return {
    async emit(event) {
      const { id, now, row } = await prepared(event);
      let queued: number;
      try {
        queued = await repo.emit(row, now);
      } catch (err) {
        // D1 may have saved the batch and lost its answer: a kick with nothing queued does nothing.
        await kick().catch(() => undefined);
        throw err;
      }
      if (queued > 0) await kick();
      return id;
    },
    async statements(event) {
      const { now, row } = await prepared(event);
      return repo.emitStatements(row, now);
    },
    kick,
  };
}
