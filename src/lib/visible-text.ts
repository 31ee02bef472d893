import { apiError } from "../errors";

/**
 * Characters that render as nothing, or that steer how text is read rather than being read:
 * controls (C0, DEL, C1), format characters (zero-width, bidi embeddings and isolates, soft hyphen,
 * BOM, tags), separators other than the ASCII space (no-break, en/em, ideographic, line and
 * paragraph), surrogates, private-use and unassigned code points, and the other default-ignorable
 * characters (Hangul fillers, variation selectors, ...). Two strings that differ only in these look
 * the same to a person, and "\n" in particular is what joins keys inside the gateway.
 */
const INVISIBLE = /[\p{C}\p{Default_Ignorable_Code_Point}\u2800]|[^\P{Z} ]/u;

/** The first invisible or control character in `text`, as "U+200B at index 12", or null when there is none. */
export function invisibleCharacter(text: string): string | null {
  const match = INVISIBLE.exec(text);
  if (!match) return null;
  const hex = match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
  return `U+${hex} at index ${match.index}`;
}

/**
 * Why `text` cannot be an identifier a person registers (an issuer, an audience, a claim value),
 * or null when it can: no invisible or control character, no leading or trailing space.
 */
export function identifierProblem(text: string): string | null {
  const hidden = invisibleCharacter(text);
  if (hidden) return `must not contain control or invisible characters (found ${hidden})`;
  if (text.trim() !== text) return "must not start or end with a space";
  return null;
}

/** The longest name a person gives a tenant, an onboarding link or a webhook. */
export const MAX_NAME_LENGTH = 200;

/**
 * Why `text` cannot be a name (a tenant's, an onboarding link's, a webhook's), or null when it can:
 * 1 to 200 characters, all visible (no controls, no bidi overrides or other invisible characters,
 * which could make a name read differently in the console or a CSV export), no space at either end.
 */
export function nameProblem(text: string): string | null {
  // UTF-16 units, as Zavu counts a sub-account's name (an emoji is two).
  if (text.length === 0 || text.length > MAX_NAME_LENGTH) return `must be 1 to ${MAX_NAME_LENGTH} characters`;
  const hidden = invisibleCharacter(text);
  if (hidden) return `must use visible characters only (found ${hidden})`;
  if (text.trim() !== text) return "must not start or end with a space";
  return null;
}

/** `text` when it is a valid name, else 400 invalid_request naming `field`: every path that stores a name calls it. */
export function requireName(text: string, field = "name"): string {
  const problem = nameProblem(text);
  if (problem) throw apiError("invalid_request", `${field} ${problem}.`, [{ path: field, message: problem }]);
  return text;
}
