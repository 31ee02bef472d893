import type { MiddlewareHandler } from "hono";
import { config } from "../config";
import type { Env } from "../env";
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
  const who = onBehalfOf && /^[\x20-\x7e]{1,100}$/.test(onBehalfOf) ? ` (${onBehalfOf})` : "";
  return `admin:${(await sha256Base64Url(presented)).slice(0, 8)}${who}`;
}

/**
 * Admin authentication as middleware, in the manner of hono/bearer-auth: every route registered
 * after it requires the admin token. The configured tokens are read and checked once per isolate
 * (config.ts): a missing or short ADMIN_TOKEN is a deployment mistake, answered 503 not_configured on
 * every admin call rather than guarded by a weak secret.
 */
export function adminAuth<E extends { Bindings: Env; Variables: { actor?: string } }>(
  opts: { actorHeader?: string; onBehalfOf?: string } = {},
): MiddlewareHandler<E> {
  return async (c, next) => {
    const onBehalfOf = opts.onBehalfOf ?? (opts.actorHeader ? c.req.header(opts.actorHeader) : undefined);
    c.set("actor", await authenticateAdmin(c.req.header("authorization"), config(c.env).adminTokens, onBehalfOf));
    await next();
  };
}
