import { TEST_SECRETS } from "../test-secrets.ts";
import { findSecrets, type Hit, secretsFromBindings, TALLY_TAG, type Tally } from "./secrets.ts";

/**
 * The Node side of the secret-hygiene scan (vitest's main process): every console line vitest
 * receives from any test file is scanned too, and the tallies the workerd side sends are kept for
 * the summary that test/hygiene/global-setup.ts prints and asserts at the end of the run.
 */
export interface Summary {
  tallies: Tally[];
  consoleLines: number;
  consoleHits: Hit[];
}

const KEY = Symbol.for("zavu-gateway.secret-hygiene.summary");
const SECRETS = secretsFromBindings({ ...TEST_SECRETS });

export function summary(): Summary {
  const g = globalThis as { [KEY]?: Summary };
  g[KEY] ??= { tallies: [], consoleLines: 0, consoleHits: [] };
  return g[KEY];
}

export function resetSummary(): void {
  Object.assign(summary(), { tallies: [], consoleLines: 0, consoleHits: [] });
}

/** vitest's onConsoleLog: tallies are taken (and not printed); every other line is scanned, then printed. */
export function collectConsole(log: string, type: "stdout" | "stderr"): false | undefined {
  const s = summary();
  const line = log.trim();
  if (line.startsWith(TALLY_TAG)) {
    s.tallies.push(JSON.parse(line.slice(TALLY_TAG.length)) as Tally);
    return false;
  }
  s.consoleLines++;
  for (const secret of findSecrets(log, SECRETS)) s.consoleHits.push({ secret, source: `console (${type})` });
  return undefined;
}
