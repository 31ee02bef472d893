import { apiError } from "../errors";
import { MAX_TOKEN_LENGTH } from "../identity/verify";

const unauthorized = (message: string) => apiError("unauthorized", message);

/** The customer's JWT from `Authorization: Bearer <JWT>`. */
export function bearerToken(header: string | undefined): string {
  if (!header) throw unauthorized("Missing Authorization header; send your identity provider's JWT as a Bearer token.");
  const match = /^Bearer[ ]+(\S+)$/i.exec(header);
  if (!match) throw unauthorized('Authorization must be "Bearer <JWT>".');
  const token = match[1]!;
  if (token.length > MAX_TOKEN_LENGTH) throw unauthorized(`Token is longer than ${MAX_TOKEN_LENGTH} characters.`);
  return token;
}
