const encoder = new TextEncoder();

export function base64ToBytes(b64: string): Uint8Array {
  const normal = b64.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(normal + "=".repeat((4 - (normal.length % 4)) % 4));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

export function bytesToBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function sha256Base64Url(text: string): Promise<string> {
  return bytesToBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));
}
