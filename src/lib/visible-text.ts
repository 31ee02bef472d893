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
