import { env } from "cloudflare:workers";
import { newRelayId } from "../../src/lib/relay-address";
import { type SignatureVersion, signZavu } from "../../src/lib/zavu-signature";
import { sealKey } from "../../src/storage/key-vault";
import { customerSecretOwner, SenderRepo, upstreamSecretOwner } from "../../src/storage/senders-repo";
import { state } from "./gateway";

export interface TestSender {
  relayId: string;
  senderId: string;
  /** Zavu's secret: what Zavu signs the relay's events with. */
  zavuSecret: string;
  /** The customer's secret: what the gateway signs deliveries with. */
  customerSecret: string;
}

const randomSecret = () => `whsec_${crypto.randomUUID().replace(/-/g, "")}${crypto.randomUUID().replace(/-/g, "")}`;

/** A sender row as the gateway's senders service leaves one (both secrets sealed to their owners). */
export async function insertSender(
  tenantId: string,
  opts: { webhookUrl?: string | null; events?: string[]; active?: boolean; signatureVersion?: SignatureVersion } = {},
): Promise<TestSender> {
  const relayId = newRelayId();
  const senderId = `snd_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
  const zavuSecret = randomSecret();
  const customerSecret = randomSecret();
  const now = Date.now();
  await new SenderRepo(env.DB, state.counters).insert({
    relayId,
    tenantId,
    senderId,
    webhookUrl: opts.webhookUrl === undefined ? null : opts.webhookUrl,
    webhookEvents: opts.events ?? ["message.queued", "message.sent", "message.delivered", "message.failed"],
    webhookActive: opts.active ?? true,
    signatureVersion: opts.signatureVersion ?? "v2",
    secretCiphertext: await sealKey(env.KEY_ENCRYPTION_KEY, customerSecretOwner(relayId), customerSecret),
    upstreamSecretCiphertext: await sealKey(env.KEY_ENCRYPTION_KEY, upstreamSecretOwner(relayId), zavuSecret),
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  });
  return { relayId, senderId, zavuSecret, customerSecret };
}

let seq = 0;

/** A Zavu event body for a sender (message.* by default). */
export function zavuEvent(
  sender: { senderId: string },
  projectId: string,
  type: string,
  data: Record<string, unknown> = {},
): { id: string; body: string } {
  const id = `evt_${Date.now().toString(36)}${(seq++).toString(36)}${crypto.randomUUID().slice(0, 8)}`;
  const body = JSON.stringify({
    id,
    type,
    timestamp: Date.now(),
    senderId: sender.senderId,
    projectId,
    data: { messageId: `msg_${id}`, status: type.split(".")[1], channel: "sms", to: "+15550100001", ...data },
  });
  return { id, body };
}

/** Zavu's signature header over a body, as Zavu signs it. */
export const zavuSignature = (secret: string, body: string, version: SignatureVersion = "v2", t?: number) =>
  signZavu(secret, body, version, t ?? Math.floor(Date.now() / 1000));

/** Polls until `check` returns a value (not undefined/false), or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
