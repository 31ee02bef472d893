import { base64ToBytes } from "../lib/encoding";

/** The prefix of a Standard Webhooks secret; the rest is base64 of the key bytes. */
const PREFIX = "whsec_";

/** A new secret: 32 random bytes, as `whsec_<base64>` (what the standardwebhooks libraries take). */
export function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return PREFIX + btoa(String.fromCharCode(...bytes));
}

/**
 * The `webhook-signature` header of the Standard Webhooks specification: `v1,` and the base64
 * HMAC-SHA256, keyed with the secret's bytes, of `{webhook-id}.{webhook-timestamp}.{body}`.
 */
export async function signature(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  if (!secret.startsWith(PREFIX)) throw new Error("not a whsec_ secret");
  const key = await crypto.subtle.importKey(
    "raw",
    base64ToBytes(secret.slice(PREFIX.length)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
}
