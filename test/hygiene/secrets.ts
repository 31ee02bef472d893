/**
 * Secret hygiene: which secrets a text contains. Used inside workerd (every gateway response body
 * and log line) and in Node (every console line vitest sees). A hit names the secret, never its value.
 */
export interface Secret {
  name: string;
  /** The exact value, or a pattern for secrets the suite makes at run time. */
  match: string | RegExp;
  /**
   * The one answer allowed to carry it ("METHOD /path -> status"), or a pattern of such answers (a path
   * with an id): where it is shown once, by design.
   */
  shownOnlyBy?: string | RegExp;
}

export interface Hit {
  secret: string;
  source: string;
  test?: string;
}

/** The customer's own answers that carry a sender's webhook secret: create, and regenerate. */
export const SENDER_SECRET_ANSWERS = /^POST \/v1\/senders(?:\/[A-Za-z0-9_.~-]{1,128}\/webhook\/secret -> 200| -> 201)$/;

/**
 * Secrets made at run time: full sub-account keys (their 16-character prefixes are shown on purpose),
 * and webhook signing secrets (shown once, in the answer that registers the endpoint: the admin API's or
 * the console's).
 */
export const SECRET_PATTERNS: Secret[] = [
  {
    // An admin API key (zgk_ and 43 base64url characters): shown once, by the answer that creates it
    // (the admin API's, or the console's fragment with the copy button). Its 12-character prefix is shown on purpose.
    name: "an admin API key",
    match: /zgk_[A-Za-z0-9_-]{43}/,
    shownOnlyBy: /^POST \/(?:admin\/v1|console\/f)\/api-keys -> (?:201|200)$/,
  },
  { name: "a sub-account key", match: /zv_(?:live|test)_sub_[a-z0-9]{20,}/ },
  {
    name: "a webhook signing secret",
    match: /whsec_[A-Za-z0-9+/]{43}=/,
    // The admin API's answer, or the console's fragment after its form registers one.
    shownOnlyBy: /^POST \/(?:admin\/v1\/webhooks -> 201|console\/f\/webhooks -> 200)$/,
  },
  {
    // A sender's customer secret, the gateway's (whsec_ and 43 base64url characters, nothing after): shown by
    // the create and regenerate answers only. Zavu's relay secret has the same form and is registered by its
    // exact value as it is made (registerSecret in ledger.ts), shown nowhere.
    name: "a sender's webhook secret",
    match: /whsec_[A-Za-z0-9_-]{43}(?![A-Za-z0-9+/=_-])/,
    shownOnlyBy: SENDER_SECRET_ANSWERS,
  },
];

/** Bindings whose name says they are secret, and which are set (shorter values would match by chance). */
const SECRET_NAME = /(?:SECRET|TOKEN|PASSWORD|PRIVATE|_KEY)$/;

/**
 * The secrets among an env's string bindings (so a binding added later, e.g. a webhook secret, is
 * covered without a change here), each comma-separated part on its own (ADMIN_TOKEN during a rotation).
 */
export function secretsFromBindings(bindings: Record<string, unknown>): Secret[] {
  const secrets: Secret[] = [...SECRET_PATTERNS];
  for (const [name, value] of Object.entries(bindings)) {
    if (typeof value !== "string" || !SECRET_NAME.test(name)) continue;
    for (const part of value.split(",").map((p) => p.trim())) {
      if (part.length >= 12) secrets.push({ name, match: part });
    }
  }
  return secrets;
}

/** The secrets `text` holds; `answer` ("METHOD /path -> status") names the gateway answer it is the body of. */
export function findSecrets(text: string, secrets: Secret[], answer?: string): string[] {
  const found = new Set<string>();
  for (const { name, match, shownOnlyBy } of secrets) {
    if (shownOnlyBy !== undefined && answer !== undefined) {
      if (typeof shownOnlyBy === "string" ? shownOnlyBy === answer : shownOnlyBy.test(answer)) continue;
    }
    if (typeof match === "string" ? text.includes(match) : match.test(text)) found.add(name);
  }
  return [...found];
}

/** What each test file reports at its end, as one console line the Node side collects. */
export interface Tally {
  file: string;
  bodies: number;
  logLines: number;
  unscanned: number;
  hits: Hit[];
}

export const TALLY_TAG = "[secret-hygiene] ";
