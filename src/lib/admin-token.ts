import { apiError } from "../errors";
import { bearerCredentials } from "./bearer";
import { sha256Base64Url } from "./encoding";

const encoder = new TextEncoder();
const MAX_ADMIN_TOKEN_LENGTH = 512;

/**
 * Checks the admin bearer token against ADMIN_TOKEN (one token, or two comma-separated during
 * a rotation) in constant time: both sides are hashed to equal length and every configured
 * token is compared. Returns the actor name for the audit log: a fingerprint of the token
 * used, never the token. One check for every door the token opens: the admin API (admin/auth.ts),
 * the console and GET /healthz?deep=1.
 */
export async function authenticateAdmin(
  header: string | undefined,
  tokens: readonly string[] | null,
  onBehalfOf?: string,
): Promise<string> {
  if (!tokens) throw apiError("not_configured", "ADMIN_TOKEN is not set, or is shorter than 16 characters.");
  const presented = bearerCredentials(header);
  if (!presented || presented.length > MAX_ADMIN_TOKEN_LENGTH)
    throw apiError("unauthorized", "Send the admin token as Authorization: Bearer <ADMIN_TOKEN>.");
  const digest = async (s: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(s)));
  const mine = await digest(presented);
  let matched = false;
  for (const token of tokens) {
    if (crypto.subtle.timingSafeEqual(mine, await digest(token))) matched = true;
  }
  if (!matched) throw apiError("unauthorized", "The admin token is not valid.");
  // A note, never brackets: it cannot read as another actor ("admin:… (staff:boss@…)" stays one note).
  const who = onBehalfOf && /^[\x20-\x7e]{1,100}$/.test(onBehalfOf) ? ` (${onBehalfOf.replace(/[()]/g, "")})` : "";
  return `admin:${(await sha256Base64Url(presented)).slice(0, 8)}${who}`;
}
