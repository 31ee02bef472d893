/**
 * `Authorization: Bearer <credentials>` as RFC 9110 §11 reads it: the scheme is case-insensitive,
 * one or more spaces follow it, then one credential of visible ASCII (a JWT, an admin token).
 * Anything else (no scheme, another scheme, a tab, a second token or scheme) is not a Bearer header.
 *
 * @example
 * bearerCredentials("bearer eyJhbGciOi...") // "eyJhbGciOi..."
 * bearerCredentials("Basic dXNlcjpwYXNz") // null
 */
export function bearerCredentials(header: string | null | undefined): string | null {
  return /^bearer +([!-~]+)$/i.exec(header ?? "")?.[1] ?? null;
}
