import type { Keyring } from "../config";
import { base64ToBytes, bytesToBase64Url } from "../lib/encoding";

export { type Keyring, keyringOf } from "../config";

/**
 * Seals Zavu sub-account keys with AES-256-GCM under a key-encryption key (KEK). The tenant id
 * is the associated data, so a ciphertext moved to another tenant's row fails to open.
 *
 * Format: `v2.<kek id>.<base64url(12-byte IV || ciphertext+tag)>`. The KEK id (11 characters,
 * derived from the key itself, nothing to configure) names the key that sealed it, so a
 * rotation can run with two keys: KEY_ENCRYPTION_KEY seals, KEY_ENCRYPTION_KEY_PREVIOUS still
 * opens what it sealed until the re-seal job (src/maintenance) has moved everything over.
 * Ciphertexts from before KEK ids (bare base64url) still open: current key first, then previous.
 */
interface ImportedKek {
  id: string;
  key: CryptoKey;
}

const VERSION = "v2";
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Imports are cached per key text; a handful of keys at most (current, previous). */
const imported = new Map<string, Promise<ImportedKek>>();
const MAX_IMPORTED = 8;

function importKek(kekBase64: string): Promise<ImportedKek> {
  let kek = imported.get(kekBase64);
  if (!kek) {
    kek = (async () => {
      const raw = base64ToBytes(kekBase64);
      if (raw.byteLength !== 32) throw new Error("A key-encryption key must be base64 of exactly 32 bytes");
      const label = encoder.encode("zavu-gateway kek id\0");
      const digest = await crypto.subtle.digest("SHA-256", new Uint8Array([...label, ...raw]));
      const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
      return { id: bytesToBase64Url(new Uint8Array(digest, 0, 8)), key };
    })();
    kek.catch(() => imported.delete(kekBase64));
    if (imported.size >= MAX_IMPORTED) imported.clear();
    imported.set(kekBase64, kek);
  }
  return kek;
}

function ringFor(kek: string | Keyring): Keyring {
  return typeof kek === "string" ? { current: kek, previous: [] } : kek;
}

/** The id a ciphertext sealed under this key carries. */
export async function kekId(kekBase64: string): Promise<string> {
  return (await importKek(kekBase64)).id;
}

/** The KEK id a ciphertext names; null for the format before KEK ids. */
export function sealedKekId(sealed: string): string | null {
  if (!sealed.startsWith(`${VERSION}.`)) return null;
  const end = sealed.indexOf(".", VERSION.length + 1);
  return end > 0 ? sealed.slice(VERSION.length + 1, end) : null;
}

/** The prefix every ciphertext sealed under this KEK starts with (for finding the others in SQL). */
export async function sealedPrefix(kekBase64: string): Promise<string> {
  return `${VERSION}.${await kekId(kekBase64)}.`;
}

/** Seals under the current key (a keyring's, or the one given). */
export async function sealKey(kek: string | Keyring, tenantId: string, plaintext: string): Promise<string> {
  const { id, key } = await importKek(typeof kek === "string" ? kek : kek.current);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(tenantId) },
    key,
    encoder.encode(plaintext),
  );
  const out = new Uint8Array(12 + ct.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ct), 12);
  return `${VERSION}.${id}.${bytesToBase64Url(out)}`;
}

async function decrypt(key: CryptoKey, tenantId: string, bytes: Uint8Array): Promise<string> {
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: encoder.encode(tenantId) },
    key,
    bytes.subarray(12),
  );
  return decoder.decode(pt);
}

/**
 * Opens with the key the ciphertext names (the current or a previous one). Throws when that key
 * is not configured, or the ciphertext was tampered with or belongs to another tenant.
 */
export async function openKey(kek: string | Keyring, tenantId: string, sealed: string): Promise<string> {
  const ring = ringFor(kek);
  const keys = [ring.current, ...ring.previous];
  const named = sealedKekId(sealed);
  if (named !== null) {
    for (const candidate of keys) {
      const { id, key } = await importKek(candidate);
      if (id === named) return decrypt(key, tenantId, base64ToBytes(sealed.slice(sealed.lastIndexOf(".") + 1)));
    }
    throw new Error(`Sealed under key-encryption key ${named}, which is not configured`);
  }
  const bytes = base64ToBytes(sealed);
  let failure: unknown;
  for (const candidate of keys) {
    try {
      return await decrypt((await importKek(candidate)).key, tenantId, bytes);
    } catch (err) {
      failure = err;
    }
  }
  throw failure;
}

/** The ciphertext re-sealed under the ring's current key, or null when it already is. */
export async function resealKey(ring: Keyring, tenantId: string, sealed: string): Promise<string | null> {
  if (sealed.startsWith(await sealedPrefix(ring.current))) return null;
  return sealKey(ring, tenantId, await openKey(ring, tenantId, sealed));
}
