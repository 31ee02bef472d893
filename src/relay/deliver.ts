import type { Keyring } from "../config";
import type { Counters } from "../lib/counters";
import { type PostResult, postOnce } from "../lib/post-once";
import { urlProblem } from "../lib/url-policy";
import { SIGNATURE_HEADER, signZavu } from "../lib/zavu-signature";
import { openKey } from "../storage/key-vault";
import { customerSecretOwner, type SenderRecord } from "../storage/senders-repo";

/** A receiver must answer within this (Zavu documents about 5 s for its own; the gateway allows 10). */
const ATTEMPT_TIMEOUT_MS = 10_000;

export type AttemptResult = PostResult;

/** Why an event is not for the customer at all (null: deliver it). */
export function skipReason(sender: SenderRecord | undefined, type: string): string | null {
  if (!sender || sender.deletedAt !== null) return "sender deleted";
  if (sender.webhookUrl === null) return "no webhook URL";
  if (!sender.webhookActive) return "webhook paused";
  if (!sender.webhookEvents.includes(type)) return "event not subscribed";
  return null;
}

/**
 * One attempt: the event's body exactly as Zavu sent it, signed the way the customer's sender says
 * (X-Zavu-Signature, v1, v2 or both, with the customer's secret), POSTed to the customer's URL under
 * the URL policy, without following redirects. Any 2xx is delivered.
 */
export async function attemptDelivery(
  sender: SenderRecord,
  payload: string,
  opts: { keyring: Keyring; allowHttpLoopback: boolean; counters: Counters; secrets: Map<string, string> },
): Promise<AttemptResult> {
  const url = sender.webhookUrl!;
  const problem = urlProblem(url, { allowHttpLoopback: opts.allowHttpLoopback });
  if (problem) return { ok: false, status: null, error: `url ${problem}` };
  const sealed = sender.secretCiphertext;
  if (!sealed) return { ok: false, status: null, error: "no signing secret" };
  let secret = opts.secrets.get(sealed);
  if (secret === undefined) {
    try {
      secret = await openKey(opts.keyring, customerSecretOwner(sender.relayId), sealed);
    } catch {
      return { ok: false, status: null, error: "secret unreadable (is its KEY_ENCRYPTION_KEY configured?)" };
    }
    opts.secrets.set(sealed, secret);
  }
  const signature = await signZavu(secret, payload, sender.signatureVersion, Math.floor(Date.now() / 1000));
  opts.counters.relayAttempts++;
  return postOnce(
    url,
    { "content-type": "application/json", "user-agent": "webhook-relay/1", [SIGNATURE_HEADER]: signature },
    payload,
    ATTEMPT_TIMEOUT_MS,
  );
}
