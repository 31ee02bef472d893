import { apiError } from "../errors";
import { MAX_TOKEN_LENGTH } from "../identity/verify";
import { bearerCredentials } from "../lib/bearer";

const unauthorized = (message: string) => apiError("unauthorized", message);

/** The customer's JWT from `Authorization: Bearer <JWT>` (the one Bearer rule, src/lib/bearer.ts). */
export function bearerToken(header: string | undefined): string {
  if (!header) throw unauthorized("Missing Authorization header; send your identity provider's JWT as a Bearer token.");
  const token = bearerCredentials(header);
  if (!token) throw unauthorized('Authorization must be "Bearer <JWT>".');
  if (token.length > MAX_TOKEN_LENGTH) throw unauthorized(`Token is longer than ${MAX_TOKEN_LENGTH} characters.`);
  return token;
}
