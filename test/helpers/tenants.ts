import { env } from "cloudflare:workers";
import type { JSONWebKeySet } from "jose";
import { sealKey } from "../../src/storage/key-vault";
import { state } from "./gateway";
import { MAIN_KEY, zavu } from "./sandbox";

export interface TestIdentity {
  issuer: string;
  audience?: string[];
  jwksUri?: string;
  jwks?: JSONWebKeySet;
  algorithms?: string[];
  claim?: { name: string; value: string };
}

/**
 * Creates a tenant the way provisioning leaves one: a real sub-account in the sandbox, its key
 * sealed into D1 next to the identity, announced to the gateway's isolates. (Used by the edge
 * tests; the admin API has its own.)
 */
export async function insertTenant(identity: TestIdentity, opts: { creditLimit?: number; name?: string } = {}) {
  const id = `tnt_${crypto.randomUUID().replace(/-/g, "").slice(0, 26)}`;
  const main = zavu(MAIN_KEY);
  const { subAccount } = await main.subAccounts.create({
    name: opts.name ?? id,
    externalId: id,
    creditLimit: opts.creditLimit,
  });
  const { items } = await main.subAccounts.apiKeys.list(subAccount.id);
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO tenants (id, name, external_id, status, credit_limit, sub_account_id, key_ciphertext, key_id, key_prefix, created_at, updated_at)
       VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?)`,
    ).bind(
      id,
      opts.name ?? id,
      id,
      opts.creditLimit ?? null,
      subAccount.id,
      await sealKey(env.KEY_ENCRYPTION_KEY, id, subAccount.apiKey!),
      items[0]!.id,
      items[0]!.keyPrefix,
      now,
      now,
    ),
    env.DB.prepare(
      `INSERT INTO tenant_identities (tenant_id, issuer, claim_name, claim_value, audience, jwks_uri, jwks, algorithms, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).bind(
      id,
      identity.issuer,
      identity.claim?.name ?? "",
      identity.claim?.value ?? "",
      identity.audience ? JSON.stringify(identity.audience) : null,
      identity.jwksUri ?? null,
      identity.jwks ? JSON.stringify(identity.jwks) : null,
      identity.algorithms ? JSON.stringify(identity.algorithms) : null,
      now,
    ),
  ]);
  await announce({ kind: "tenant.created", tenantId: id, issuers: [identity.issuer] });
  return { id, subAccountId: subAccount.id, keyId: items[0]!.id };
}

/**
 * Tells every isolate about a change written straight to D1, as the admin API does (the control
 * plane), and makes this file's gateway isolate read it on its next request.
 */
export async function announce(event: { kind: string; tenantId: string | null; issuers: string[] }) {
  await env.CONTROL.get(env.CONTROL.idFromName("global")).publish([event]);
  state.control.invalidate();
}
