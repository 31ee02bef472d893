import { base64ToBytes, bytesToBase64Url } from "../lib/encoding";

/**
 * Seals Zavu sub-account keys with AES-256-GCM under KEY_ENCRYPTION_KEY. The tenant id is
 * the associated data, so a ciphertext moved to another tenant's row fails to open.
 * Format: base64url(12-byte IV || ciphertext+tag).
 */
const imported = new Map<string, Promise<CryptoKey>>();
const encoder = new TextEncoder();

function importKek(kekBase64: string): Promise<CryptoKey> {
  let key = imported.get(kekBase64);
  if (!key) {
    const raw = base64ToBytes(kekBase64);
    if (raw.byteLength !== 32) throw new Error("KEY_ENCRYPTION_KEY must be base64 of exactly 32 bytes");
    key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    imported.clear(); // one KEK at a time; a rotated secret replaces the old import
    imported.set(kekBase64, key);
  }
  return key;
}

export async function sealKey(kekBase64: string, tenantId: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(tenantId) },
    await importKek(kekBase64),
    encoder.encode(plaintext),
  );
  const out = new Uint8Array(12 + ct.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ct), 12);
  return bytesToBase64Url(out);
}

/** Throws when the ciphertext was tampered with, belongs to another tenant or another KEK. */
export async function openKey(kekBase64: string, tenantId: string, sealed: string): Promise<string> {
  const bytes = base64ToBytes(sealed);
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: encoder.encode(tenantId) },
    await importKek(kekBase64),
    bytes.subarray(12),
  );
  return new TextDecoder().decode(pt);
}
