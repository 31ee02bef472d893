/**
 * Zavu's webhook signature, as its docs and SDK describe it: `X-Zavu-Signature: t=<unix seconds>,v1=<hex>`
 * and/or `v2=<hex>`, where v1 = HMAC-SHA256(secret, body) and v2 = HMAC-SHA256(secret, t + "." + body),
 * the secret's characters being the key. The gateway verifies Zavu's with it and signs the customer's.
 */
export type SignatureVersion = "v1" | "v1+v2" | "v2";
export const SIGNATURE_VERSIONS: readonly SignatureVersion[] = ["v1", "v1+v2", "v2"];

export const SIGNATURE_HEADER = "x-zavu-signature";
/** How far a signature's timestamp may be from now (either way). */
export const SIGNATURE_TOLERANCE_S = 300;

const encoder = new TextEncoder();

async function hmacHex(secret: string, data: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data)));
  let hex = "";
  for (const b of mac) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** The header value for `body`, signed the way `version` says, at `t` (unix seconds). */
export async function signZavu(secret: string, body: string, version: SignatureVersion, t: number): Promise<string> {
  const parts = [`t=${t}`];
  if (version !== "v2") parts.push(`v1=${await hmacHex(secret, body)}`);
  if (version !== "v1") parts.push(`v2=${await hmacHex(secret, `${t}.${body}`)}`);
  return parts.join(",");
}

export type SignatureProblem = "missing" | "malformed" | "stale" | "mismatch";

/** Compares two hex strings in constant time (their lengths are public: both are SHA-256 sizes). */
function sameHex(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  return x.byteLength === y.byteLength && crypto.subtle.timingSafeEqual(x, y);
}

/**
 * Checks a Zavu signature header over `body`: v2 when the header has one (it binds the timestamp),
 * v1 only when it has no v2 and `requireV2` is false; the timestamp within SIGNATURE_TOLERANCE_S of
 * `nowS` either way. A v1 signature does not cover the timestamp: a captured v1 body and signature can
 * be sent again with any `t`, so the relay (whose senders Zavu signs with v2) takes v2 only.
 */
export async function verifyZavu(
  header: string | null,
  secret: string,
  body: string,
  nowS: number,
  opts: { requireV2?: boolean } = {},
): Promise<SignatureProblem | null> {
  if (!header) return "missing";
  let t: number | null = null;
  const v1: string[] = [];
  const v2: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === "t" && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (name === "v1" && /^[0-9a-f]{64}$/.test(value)) v1.push(value);
    else if (name === "v2" && /^[0-9a-f]{64}$/.test(value)) v2.push(value);
  }
  if (t === null || (v1.length === 0 && v2.length === 0)) return "malformed";
  if (opts.requireV2 && v2.length === 0) return "malformed";
  if (Math.abs(nowS - t) > SIGNATURE_TOLERANCE_S) return "stale";
  if (v2.length > 0) {
    const expected = await hmacHex(secret, `${t}.${body}`);
    return v2.some((s) => sameHex(s, expected)) ? null : "mismatch";
  }
  const expected = await hmacHex(secret, body);
  return v1.some((s) => sameHex(s, expected)) ? null : "mismatch";
}
