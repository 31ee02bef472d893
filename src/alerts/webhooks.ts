import { config } from "../config";
import type { Env } from "../env";
import { apiError } from "../errors";
import type { Counters } from "../lib/counters";
import { sortableId } from "../lib/ids";
import { urlProblem } from "../lib/url-policy";
import { requireName } from "../lib/visible-text";
import { sealKey } from "../storage/key-vault";
import { type DeliveryRecord, type WebhookRecord, WebhookRepo } from "../storage/webhook-repo";
import { attempt } from "./deliver";
import { eventId, payloadOf } from "./events";
import { newSecret } from "./signing";

/** A reseller registers a handful; each event fans out to every one subscribed. */
export const MAX_WEBHOOKS = 20;

/**
 * Registers an endpoint. Its URL obeys the URL policy of every URL a reseller gives (public https;
 * in development, also http to a loopback host). The secret is returned here only; it is kept sealed.
 */
export async function registerWebhook(
  env: Env,
  counters: Counters,
  input: { name?: string; url: string; events: string[] },
): Promise<{ webhook: WebhookRecord; secret: string }> {
  if (input.name !== undefined) requireName(input.name);
  const problem = urlProblem(input.url, { allowHttpLoopback: config(env).allowHttpJwks });
  if (problem) throw apiError("invalid_request", `url ${problem}.`, [{ path: "url", message: problem }]);
  const repo = new WebhookRepo(env.DB, counters);
  if ((await repo.countLive()) >= MAX_WEBHOOKS) {
    throw apiError("conflict", `At most ${MAX_WEBHOOKS} webhooks; delete one first.`);
  }
  const id = sortableId("whk");
  const secret = newSecret();
  const webhook = {
    id,
    name: input.name ?? null,
    url: input.url,
    events: [...new Set(input.events)],
    secretCiphertext: await sealKey(config(env).keyring, id, secret),
    createdAt: Date.now(),
  };
  await repo.insert(webhook);
  return { webhook: { ...webhook, deletedAt: null }, secret };
}

export async function deleteWebhook(env: Env, counters: Counters, id: string): Promise<WebhookRecord> {
  const repo = new WebhookRepo(env.DB, counters);
  const webhook = await repo.get(id);
  if (!webhook || webhook.deletedAt !== null) throw apiError("not_found", "Webhook not found.");
  await repo.remove(id, Date.now());
  return { ...webhook, deletedAt: Date.now() };
}

export async function liveWebhook(repo: WebhookRepo, id: string): Promise<WebhookRecord> {
  const webhook = await repo.get(id);
  if (!webhook || webhook.deletedAt !== null) throw apiError("not_found", "Webhook not found.");
  return webhook;
}

/**
 * A `webhook.test` event to this endpoint alone, attempted at once; when it fails, it is retried on
 * the usual schedule like any delivery. Resolves with the delivery after the first attempt.
 */
export async function testWebhook(env: Env, counters: Counters, id: string): Promise<DeliveryRecord> {
  const repo = new WebhookRepo(env.DB, counters);
  const webhook = await liveWebhook(repo, id);
  const now = Date.now();
  const event = {
    type: "webhook.test" as const,
    tenantId: null,
    data: { webhookId: webhook.id, message: "A test from the Zavu gateway." },
  };
  const evt = await eventId(undefined);
  // Due a minute from now: this attempt is the first, and the dispatcher leaves it alone meanwhile.
  const payload = payloadOf(event, now);
  await repo.emit({ id: evt, type: event.type, tenantId: null, payload }, now, {
    webhookId: webhook.id,
    dueAt: now + 60_000,
  });
  const delivery = await repo.deliveryFor(webhook.id, evt);
  const due = delivery ? await repo.dueOne(delivery.id) : null;
  if (!due) throw apiError("internal_error", "The test event could not be queued.");
  await attempt(env, repo, due, counters);
  return (await repo.deliveryFor(webhook.id, evt))!;
}
