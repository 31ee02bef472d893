import { deleteWebhook, registerWebhook, testWebhook } from "../alerts/webhooks";
import type { Env } from "../env";
import { audit, type TenantContext } from "./context";

/*
 * The reseller's alert webhooks as an admin changes them (the admin API and the console): the alerts
 * service does the work, and the change is written to the audit log under the acting admin.
 */

export async function createAlertWebhook(
  env: Env,
  deps: TenantContext,
  input: { name?: string; url: string; events: string[] },
) {
  const made = await registerWebhook(env, deps.counters, input);
  const { webhook } = made;
  await deps.repo.batch([
    audit(deps, "webhook.create", null, {
      webhookId: webhook.id,
      name: webhook.name,
      url: webhook.url,
      events: webhook.events,
    }),
  ]);
  return made;
}

export async function deleteAlertWebhook(env: Env, deps: TenantContext, id: string) {
  const webhook = await deleteWebhook(env, deps.counters, id);
  await deps.repo.batch([audit(deps, "webhook.delete", null, { webhookId: webhook.id })]);
  return webhook;
}

/** A webhook.test event to one endpoint now (an outbound request on the admin's say): audited. */
export async function testAlertWebhook(env: Env, deps: TenantContext, id: string) {
  const delivery = await testWebhook(env, deps.counters, id);
  await deps.repo.batch([audit(deps, "webhook.test", null, { webhookId: id, status: delivery.status })]);
  return delivery;
}
