const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case

/** `prefix_` + 10 chars of time + 16 random: ids sort by creation, so keyset pages are chronological. */
export function sortableId(prefix: string, now = Date.now()): string {
  let time = "";
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  const random = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}_${time}${[...random].map((b) => ALPHABET[b % 32]).join("")}`;
}
