import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect } from "vitest";
import { ERRORS } from "../../src/errors";
import { admin } from "../helpers/admin";
import { sandbox } from "../helpers/sandbox";
import { findSecrets, secretsFromBindings } from "../hygiene/secrets";

/**
 * The invariants every fuzzed request must keep, whatever it sends, shared by the property tests
 * of each input surface:
 *   admin-bodies.test.ts      admin bodies, query strings, path ids and headers
 *   customer-requests.test.ts customer paths, methods, headers and bodies on /v1
 *   (onboarding-portal inputs, issue 11: add portal-inputs.test.ts here, with these same checks)
 *
 * 1. never a 5xx from the gateway's own code (a 5xx is only Zavu's own answer passed through);
 * 2. never a stack trace; every gateway error is JSON {code, message} with a code from
 *    src/errors.ts and that code's status;
 * 3. never a secret in an answer;
 * 4. a refused request changes nothing: the admin API shows the same tenants and audit log, and
 *    Zavu received no call that changes anything.
 *
 * Runs are bounded (FUZZ_RUNS per admin property, which also reads the admin state around each case;
 * CUSTOMER_FUZZ_RUNS for customer requests) so the whole suite stays fast on 2 cores; fast-check
 * prints the seed and the shrunk counterexample of any failure (`fc.assert(..., { seed, path })` replays it).
 */
export const FUZZ_RUNS = 75;
export const CUSTOMER_FUZZ_RUNS = 200;

export interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

export async function answerOf(res: Response): Promise<Answer> {
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const STACK = /\n\s+at\s|\bat\s+[\w$.<>]+\s+\(|\.(?:ts|js|mjs):\d+:\d+|Error:\s.*\n/;
const SECRETS = secretsFromBindings(env as unknown as Record<string, unknown>);

/**
 * Invariants 1-3 for one answer. `passedThrough`: Zavu answered this request with this status itself.
 * `head`: an answer to HEAD, which carries no body.
 */
export function expectSafeAnswer(answer: Answer, label: string, passedThrough = false, head = false): void {
  const where = `${label} -> ${answer.status} ${answer.text.slice(0, 300)}`;
  if (!passedThrough) expect(answer.status, where).toBeLessThan(500);
  expect(STACK.test(answer.text), `stack trace in ${where}`).toBe(false);
  expect(findSecrets(answer.text + JSON.stringify([...answer.headers]), SECRETS), where).toEqual([]);
  if (head) expect(answer.text, where).toBe("");
  else if (answer.status >= 400 && !passedThrough) {
    const body = JSON.parse(answer.text) as { code?: string; message?: string };
    expect(typeof body.message, where).toBe("string");
    expect(Object.keys(ERRORS), where).toContain(body.code);
    expect(ERRORS[body.code as keyof typeof ERRORS].status, where).toBe(answer.status);
  }
}

/** Everything the admin API shows, plus how many changing calls Zavu has received. */
export async function stateSnapshot(): Promise<string> {
  const tenants: unknown[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: unknown[]; nextCursor: string | null } } = await admin(
      "GET",
      `/tenants?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    tenants.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  const audit = (await admin("GET", "/audit?limit=1")).body.items[0] ?? null;
  return JSON.stringify({ tenants, audit });
}

/** Calls that change something upstream (the sandbox log also holds reads). */
export async function upstreamChanges(): Promise<string[]> {
  return (await sandbox.requests())
    .filter((r) => r.method !== "GET" && r.method !== "HEAD")
    .map((r) => `${r.method} ${r.path} ${r.status}`);
}

/** Hostile text: control and invisible characters, markup, injection payloads, lone surrogates, very long. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\n",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\ud800",
    "__proto__",
    "constructor",
    "prototype",
    "<script>alert(1)</script>",
    "' OR '1'='1' --",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection payload, as sent
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "%00",
    "%2e%2e%2f",
    "null",
    "true",
    "NaN",
    "https://127.0.0.1/jwks.json",
    "https://localhost./jwks.json",
    "tnt_00000000000000000000000000",
    "x".repeat(600),
    "é".repeat(300),
  ),
);

/** Percent-encodes any text, lone surrogates included (as the bytes of one). */
export function encodeSegment(text: string): string {
  return encodeURIComponent(text.replace(/\p{Surrogate}/gu, "\ufffd"));
}

/** Header values HTTP can carry (visible ASCII and spaces; the runtime refuses control characters). */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.constantFrom("", " ", "%00", "../../x", "null", "<script>", "' OR 1=1", "x".repeat(600), "a,b", "gzip, br"),
);

/** Any JSON value, with hostile strings and edge-case numbers, bounded in depth. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    hostileString,
    fc.constantFrom(0, -0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, true, false, null),
    fc.integer(),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(hostileString, tie("value"), { maxKeys: 3 }),
  ),
})).value;
