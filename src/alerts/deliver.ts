import { config } from "../config";
import type { Env } from "../env";
import type { Counters } from "../lib/counters";
import { type PostResult, postOnce } from "../lib/post-once";
import { urlProblem } from "../lib/url-policy";
import { openKey, resealKey } from "../storage/key-vault";
import type { DueDelivery, WebhookRepo } from "../storage/webhook-repo";
import { signature } from "./signing";

/**
 * When attempts happen, after the first (which is immediate): the schedule of the Standard Webhooks
 * reference implementations. Eight attempts over 27.6 hours; after the last failure, the delivery fails.
 */
export const RETRY_DELAYS_MS = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];
/** One attempt may take this long before it counts as failed. */
const ATTEMPT_TIMEOUT_MS = 10_000;

/** The delay before attempt `n + 1` after `n` failed ones (null: no more), scaled by WEBHOOK_RETRY_SCALE. */
export function retryDelay(env: Env, failedAttempts: number): number | null {
  const base = RETRY_DELAYS_MS[failedAttempts - 1];
  if (base === undefined) return null;
  return Math.round(base * config(env).webhookRetryScale);
}

export type AttemptOutcome = PostResult;

/** An attempt's result as it is recorded: with the next attempt's time when it failed (null: given up). */
export type AttemptRecord = AttemptOutcome & { at: number; nextAttemptAt: number | null };

/**
 * One attempt, not yet recorded: the event's body, signed with the webhook's secret (Standard Webhooks
 * headers), POSTed to its URL under the same URL policy as at registration, without following
 * redirects, within 10 s. Any 2xx is delivered.
 */
export async function attemptOnly(
  env: Env,
  repo: WebhookRepo,
  d: DueDelivery,
  counters: Counters,
): Promise<AttemptRecord> {
  const outcome = await send(env, repo, d, counters);
  const at = Date.now();
  const delay = outcome.ok ? null : retryDelay(env, d.attempts + 1);
  return { ...outcome, at, nextAttemptAt: delay === null ? null : at + delay };
}

/** One attempt (attemptOnly), then its result recorded. */
export async function attempt(
  env: Env,
  repo: WebhookRepo,
  d: DueDelivery,
  counters: Counters,
): Promise<AttemptOutcome> {
  const record = await attemptOnly(env, repo, d, counters);
  await repo.recordAttempt(d.id, d.attempts, record);
  return record;
}

async function send(env: Env, repo: WebhookRepo, d: DueDelivery, counters: Counters): Promise<AttemptOutcome> {
  const cfg = config(env);
  const problem = urlProblem(d.url, { allowHttpLoopback: cfg.allowHttpJwks });
  if (problem) return { ok: false, status: null, error: `url ${problem}` };
  let secret: string;
  try {
    secret = await openKey(cfg.keyring, d.webhookId, d.secretCiphertext);
  } catch {
    return { ok: false, status: null, error: "secret unreadable (is its KEY_ENCRYPTION_KEY configured?)" };
  }
  // Sealed under a previous key-encryption key: re-sealed under the current one while it can still be opened.
  const resealed = await resealKey(cfg.keyring, d.webhookId, d.secretCiphertext).catch(() => null);
  if (resealed) await repo.updateSecret(d.webhookId, resealed).catch(() => undefined);
  const timestamp = Math.floor(Date.now() / 1000);
  counters.webhookCalls++;
  return postOnce(
    d.url,
    {
      "content-type": "application/json",
      "user-agent": "zavu-gateway-webhooks/1",
      "webhook-id": d.eventId,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await signature(secret, d.eventId, timestamp, d.payload),
    },
    d.payload,
    ATTEMPT_TIMEOUT_MS,
  );
}
