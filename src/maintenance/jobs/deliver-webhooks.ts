import { dispatcherOf } from "../../alerts/emit";
import type { MaintenanceJob } from "../job";

/**
 * Wakes the webhook dispatcher, in case the nudge that should have followed an alert was lost (an
 * isolate that died in between): every delivery queued in D1 is then attempted within a cron period.
 */
export const deliverWebhooks: MaintenanceJob = {
  name: "deliver-webhooks",
  description: "Wakes the webhook dispatcher, so no queued delivery waits on a lost nudge",
  unitCost: 1,

  async run(ctx) {
    ctx.deps.counters.webhookCalls++;
    await dispatcherOf(ctx.env).kick();
    return { cursor: null, counts: { kicked: 1 } };
  },
};
