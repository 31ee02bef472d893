import { apiError } from "../errors";
import { bearerCredentials } from "../lib/bearer";
import { sha256Base64Url } from "../lib/encoding";

const encoder = new TextEncoder();
const MAX_ADMIN_TOKEN_LENGTH = 512;

/**
 * Checks the admin bearer token against ADMIN_TOKEN (one token, or two comma-separated during
 * a rotation) in constant time: both sides are hashed to equal length and every configured
 * token is compared. Returns the actor name for the audit log: a fingerprint of the token
 * used, never the token.
 */
export async function authenticateAdmin(
  header: string | undefined,
  configured: string,
  onBehalfOf?: string,
): Promise<string> {
  const presented = bearerCredentials(header);
  if (!presented || presented.length > MAX_ADMIN_TOKEN_LENGTH)
    throw apiError("unauthorized", "Send the admin token as Authorization: Bearer <ADMIN_TOKEN>.");
  const tokens = configured
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .slice(0, 2);
  const digest = async (s: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(s)));
  const mine = await digest(presented);
  let matched = false;
  for (const token of tokens) {
    if (crypto.subtle.timingSafeEqual(mine, await digest(token))) matched = true;
  }
  if (!matched) throw apiError("unauthorized", "The admin token is not valid.");
  const who = onBehalfOf && /^[\x20-\x7e]{1,100}$/.test(onBehalfOf) ? ` (${onBehalfOf})` : "";
  return `admin:${(await sha256Base64Url(presented)).slice(0, 8)}${who}`;
}
