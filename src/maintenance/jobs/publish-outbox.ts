import { flushOutbox } from "../../tenants/propagation";
import type { MaintenanceJob } from "../job";

/**
 * Admin changes are committed to D1 with their events in the outbox, then published to the control
 * plane. When the plane could not be reached the events wait there; this publishes them, so every
 * isolate learns of the change even if no admin call comes after it.
 */
export const publishOutbox: MaintenanceJob = {
  name: "publish-outbox",
  description: "Publishes admin changes saved in D1 that the control plane has not logged yet",
  unitCost: 4, // a page of the outbox, the publish, and its removal

  async run(ctx) {
    const { published } = await flushOutbox(ctx.deps);
    return { cursor: null, counts: { published } };
  },
};
