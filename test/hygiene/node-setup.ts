import { afterAll, afterEach, beforeEach, expect } from "vitest";
import { TEST_SECRETS } from "../test-secrets.ts";
import { findSecrets, type Hit, type Secret, secretsFromBindings, TALLY_TAG, type Tally } from "./secrets.ts";

/**
 * Secret hygiene for the node project (test/node/: gateways in their own workerd, browsers): every
 * answer fetched from a local server is scanned, like the workers project's gateway answers. A test
 * whose bed makes its own secrets adds them with registerSecret(). Console lines are scanned by
 * test/hygiene/collect.ts for every project.
 */
const secrets: Secret[] = secretsFromBindings({ ...TEST_SECRETS });
const hits: Hit[] = [];
const pending = new Set<Promise<void>>();
let bodies = 0;
let unscanned = 0;
let currentTest: string | undefined;

export function registerSecret(name: string, value: string): void {
  secrets.push({ name, match: value });
}

/** Removes and returns the hits recorded since `mark` (a hygiene self-test plants one on purpose). */
export function takeHits(mark: number): Hit[] {
  return hits.splice(mark);
}
export const hitCount = () => hits.length;

const LOCAL = /^https?:\/\/(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])(?::\d+)?\//;
const originalFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const response = await originalFetch(input, init);
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (LOCAL.test(url)) {
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const label = `${method} ${url} -> ${response.status}`;
    const answer = `${method} ${new URL(url).pathname} -> ${response.status}`; // what shownOnlyBy names
    const test = currentTest;
    for (const secret of findSecrets(JSON.stringify([...response.headers]), secrets)) {
      hits.push({ secret, source: `headers of ${label}`, test });
    }
    const reading = response
      .clone()
      .text()
      .then(
        (text) => {
          bodies++;
          for (const secret of findSecrets(text, secrets, answer)) {
            hits.push({ secret, source: `body of ${label}`, test });
          }
        },
        () => {
          unscanned++;
        },
      );
    pending.add(reading);
    void reading.finally(() => pending.delete(reading));
  }
  return response;
};

async function settle(timeoutMs = 3_000): Promise<void> {
  if (pending.size === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const outcome = await Promise.race([Promise.allSettled([...pending]).then(() => "done" as const), timedOut]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    unscanned += pending.size;
    pending.clear();
  }
}

let mark = 0;
let file = "unknown file";
beforeEach((context) => {
  file = context.task.file.name;
  currentTest = context.task.name;
  mark = hits.length;
});
afterEach(async () => {
  await settle();
  currentTest = undefined;
  expect(hits.slice(mark), "secrets in answers from the gateway under test").toEqual([]);
});
afterAll(async () => {
  await settle();
  const tally: Tally = { file, bodies, logLines: 0, unscanned, hits };
  console.log(TALLY_TAG + JSON.stringify(tally));
});
