import { env } from "cloudflare:workers";
import type Zavudev from "@zavudev/sdk";
import { expect } from "vitest";
import { openKey } from "../../src/storage/key-vault";
import { gatewayClient } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { SANDBOX_URL } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";
import { registerSecret } from "../hygiene/ledger";

/** A sender as the sandbox holds it (its fixture, not Zavu's API): Zavu's own webhook secret included. */
export interface UpstreamSender {
  id: string;
  name: string;
  accountId: string;
  webhook?: { url: string; events: string[]; active: boolean; signatureVersion: string; secret: string };
}

/**
 * The sandbox's record of a sender. Zavu's secret for it is registered with the secret-hygiene scan by its
 * value: from now on no answer and no log line of the gateway may carry it.
 */
export async function upstreamSender(id: string): Promise<UpstreamSender> {
  const res = await env.SANDBOX.fetch(`${SANDBOX_URL}/__sandbox/senders/${encodeURIComponent(id)}`);
  expect(res.status).toBe(200);
  const sender = (await res.json()) as UpstreamSender;
  if (sender.webhook?.secret)
    registerSecret({ name: "Zavu's webhook secret for a sender", match: sender.webhook.secret });
  return sender;
}

export interface SenderRow {
  relay_id: string;
  tenant_id: string;
  sender_id: string | null;
  webhook_url: string | null;
  webhook_events: string;
  webhook_active: number;
  signature_version: string;
  secret_ciphertext: string | null;
  upstream_secret_ciphertext: string | null;
  deleted_at: number | null;
}

export async function senderRow(senderId: string): Promise<SenderRow | null> {
  return env.DB.prepare("SELECT * FROM tenant_senders WHERE sender_id = ?").bind(senderId).first<SenderRow>();
}

/** A tenant (a sub-account in the sandbox) with its own IdP, and the SDK as its app uses it. */
export async function senderTenant(label: string) {
  const idp = await TestIdp.create(`https://${label}-${crypto.randomUUID().slice(0, 8)}.senders.example`);
  const tenant = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
  const client = async (): Promise<Zavudev> => gatewayClient(await idp.token());
  return { ...tenant, idp, client };
}

/** The tenant's Zavu key, opened from D1 (to act as the tenant straight at the sandbox, bypassing the gateway). */
export async function tenantKey(tenantId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT key_ciphertext FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<{ key_ciphertext: string }>();
  return openKey(env.KEY_ENCRYPTION_KEY, tenantId, row!.key_ciphertext);
}
