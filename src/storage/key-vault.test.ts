import { describe, expect, it } from "vitest";
import { base64ToBytes, bytesToBase64Url } from "../lib/encoding";
import { kekId, keyringOf, openKey, resealKey, sealedKekId, sealKey } from "./key-vault";

const kek = (fill: number) => btoa(String.fromCharCode(...new Uint8Array(32).fill(fill)));
const A = kek(1);
const B = kek(2);
const C = kek(3);
const TENANT = "tnt_0000000000aaaaaaaaaaaaaaaa";
const SECRET = "zv_live_sub_plaintext_key";

/** The format before KEK ids: base64url(iv || AES-GCM(ciphertext), aad = tenant id). */
async function legacySeal(kekBase64: string, tenantId: string, plaintext: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", base64ToBytes(kekBase64), "AES-GCM", false, ["encrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const enc = new TextEncoder();
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: enc.encode(tenantId) },
      key,
      enc.encode(plaintext),
    ),
  );
  return bytesToBase64Url(new Uint8Array([...iv, ...ct]));
}

describe("key vault", () => {
  it("names the sealing key in every ciphertext and opens with it", async () => {
    const sealed = await sealKey(A, TENANT, SECRET);
    expect(sealed).toMatch(/^v2\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]+$/);
    expect(sealedKekId(sealed)).toBe(await kekId(A));
    expect(sealed).not.toContain(SECRET);
    expect(await openKey(A, TENANT, sealed)).toBe(SECRET);
  });

  it("KEK ids are stable per key and differ between keys", async () => {
    expect(await kekId(A)).toBe(await kekId(kek(1)));
    expect(await kekId(A)).not.toBe(await kekId(B));
    await expect(kekId(btoa("short"))).rejects.toThrow(/32 bytes/);
  });

  it("a ciphertext moved to another tenant does not open", async () => {
    const sealed = await sealKey(A, TENANT, SECRET);
    // AES-GCM's own refusal: the tenant id is the associated data, so the tag no longer verifies
    // (not some other failure, such as a ciphertext that could not even be read).
    expect(await openKey(A, TENANT, sealed)).toBe(SECRET);
    await expect(openKey(A, "tnt_0000000000bbbbbbbbbbbbbbbb", sealed)).rejects.toMatchObject({
      name: "OperationError",
    });
  });

  it("during a rotation the previous key opens what it sealed; without it, it does not", async () => {
    const old = await sealKey(A, TENANT, SECRET);
    expect(await openKey({ current: B, previous: [A] }, TENANT, old)).toBe(SECRET);
    await expect(openKey({ current: B, previous: [] }, TENANT, old)).rejects.toThrow(/not configured/);
    await expect(openKey({ current: B, previous: [C] }, TENANT, old)).rejects.toThrow(/not configured/);
  });

  it("a ciphertext whose KEK id was swapped for another configured key's does not open", async () => {
    const sealed = await sealKey(A, TENANT, SECRET);
    const forged = sealed.replace(await kekId(A), await kekId(B));
    await expect(openKey({ current: B, previous: [A] }, TENANT, forged)).rejects.toMatchObject({
      name: "OperationError",
    });
  });

  it("opens the format before KEK ids with the current or the previous key", async () => {
    expect(await openKey(A, TENANT, await legacySeal(A, TENANT, SECRET))).toBe(SECRET);
    expect(await openKey({ current: B, previous: [A] }, TENANT, await legacySeal(A, TENANT, SECRET))).toBe(SECRET);
    await expect(
      openKey({ current: B, previous: [] }, TENANT, await legacySeal(A, TENANT, SECRET)),
    ).rejects.toMatchObject({ name: "OperationError" });
  });

  it("re-seals under the current key, and leaves what already is", async () => {
    const ring = { current: B, previous: [A] };
    for (const old of [await sealKey(A, TENANT, SECRET), await legacySeal(A, TENANT, SECRET)]) {
      const moved = await resealKey(ring, TENANT, old);
      expect(sealedKekId(moved!)).toBe(await kekId(B));
      expect(await openKey({ current: B, previous: [] }, TENANT, moved!)).toBe(SECRET);
      expect(await resealKey(ring, TENANT, moved!)).toBeNull();
    }
  });

  it("opens with the previous key only through a keyring that names it", async () => {
    const old = await sealKey(A, TENANT, SECRET);
    await expect(openKey(C, TENANT, old)).rejects.toThrow(/not configured/);
    expect(await openKey(keyringOf({ KEY_ENCRYPTION_KEY: C, KEY_ENCRYPTION_KEY_PREVIOUS: A }), TENANT, old)).toBe(
      SECRET,
    );
    await expect(openKey(keyringOf({ KEY_ENCRYPTION_KEY: C }), TENANT, old)).rejects.toThrow(/not configured/);
  });

  it("keyringOf ignores an empty or repeated previous key", () => {
    expect(keyringOf({ KEY_ENCRYPTION_KEY: A, KEY_ENCRYPTION_KEY_PREVIOUS: " " })).toEqual({
      current: A,
      previous: [],
    });
    expect(keyringOf({ KEY_ENCRYPTION_KEY: A, KEY_ENCRYPTION_KEY_PREVIOUS: A })).toEqual({ current: A, previous: [] });
    expect(keyringOf({ KEY_ENCRYPTION_KEY: B, KEY_ENCRYPTION_KEY_PREVIOUS: A })).toEqual({ current: B, previous: [A] });
  });
});
