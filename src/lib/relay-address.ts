import { bytesToBase64Url } from "./encoding";

/** Where Zavu posts a sender's events: one unguessable id per sender (192 random bits). */
export const RELAY_PREFIX = "/relay/zavu/";
export const RELAY_ID = /^[A-Za-z0-9_-]{32}$/;

export function newRelayId(): string {
  return bytesToBase64Url(crypto.getRandomValues(new Uint8Array(24)));
}

/**
 * The relay URL registered with Zavu for a sender: PUBLIC_BASE_URL when the deployment sets one, else
 * the origin the customer's request came to (its route or custom domain; in development http://127.0.0.1:8787).
 */
export function relayUrl(publicBaseUrl: string | null, requestOrigin: string, relayId: string): string {
  return `${publicBaseUrl ?? requestOrigin}${RELAY_PREFIX}${relayId}`;
}

/** The relay id in a relay URL (any origin), or null when the URL is not one. */
export function relayIdOf(url: string | null | undefined): string | null {
  if (!url) return null;
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return null;
  }
  if (!path.startsWith(RELAY_PREFIX)) return null;
  const id = path.slice(RELAY_PREFIX.length);
  return RELAY_ID.test(id) ? id : null;
}
