import { env } from "cloudflare:workers";
import { findSecrets, type Hit, type Secret, secretsFromBindings, TALLY_TAG, type Tally } from "./secrets";

/**
 * This isolate's record of what the secret-hygiene scan saw: every gateway response body (and its
 * headers) and every console line. Kept on globalThis so every module copy shares it.
 */
interface Ledger {
  bodies: number;
  logLines: number;
  unscanned: number;
  hits: Hit[];
  currentTest?: string;
  secrets?: Secret[];
  consoleWatched?: boolean;
  /** What was scanned lately (answers and log lines), for a secret registered after it went by. */
  recent?: Array<{ source: string; text: string; answer?: string; test?: string }>;
}

/** How many scanned texts registerSecret looks back over (a test file's worth). */
const RECENT = 5_000;

const KEY = Symbol.for("zavu-gateway.secret-hygiene");

export function ledger(): Ledger {
  const g = globalThis as { [KEY]?: Ledger };
  g[KEY] ??= { bodies: 0, logLines: 0, unscanned: 0, hits: [] };
  return g[KEY];
}

function secrets(): Secret[] {
  const l = ledger();
  l.secrets ??= secretsFromBindings(env as unknown as Record<string, unknown>);
  return l.secrets;
}

/**
 * A secret the suite learns at run time (e.g. Zavu's webhook secret for a sender, read from the sandbox
 * after the gateway created the sender): from now on it is looked for in every answer and log line of this
 * isolate, by its exact value, and in the ones scanned before it was known (the answer that created it
 * went by first).
 */
export function registerSecret(secret: Secret): void {
  const l = ledger();
  secrets().push(secret);
  for (const seen of l.recent ?? []) {
    for (const name of findSecrets(seen.text, [secret], seen.answer)) {
      l.hits.push({ secret: name, source: seen.source, test: seen.test });
    }
  }
}

export function scanText(source: string, text: string, answer?: string): void {
  const l = ledger();
  for (const secret of findSecrets(text, secrets(), answer)) l.hits.push({ secret, source, test: l.currentTest });
  l.recent ??= [];
  l.recent.push({ source, text, answer, test: l.currentTest });
  if (l.recent.length > RECENT) l.recent.splice(0, l.recent.length - RECENT);
}

const BODY_SCAN_TIMEOUT_MS = 5_000;

/**
 * Reads the body of an answer the gateway gave, scans it with its headers, and returns an equal
 * answer. (A clone would not do: workerd's tee stalls the copy while a test leaves the original
 * unread.) A body still streaming after 5 s is handed on as it is and counted unscanned.
 */
export async function scanResponse(request: Request, response: Response): Promise<Response> {
  const l = ledger();
  const label = `${request.method} ${new URL(request.url).pathname} -> ${response.status}`;
  scanText(`headers of ${label}`, JSON.stringify([...response.headers]));
  if (!response.body) {
    l.bodies++;
    return response;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), BODY_SCAN_TIMEOUT_MS);
  });
  let complete = false;
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timedOut]);
      if (next === "timeout") break;
      if (next.done) {
        complete = true;
        break;
      }
      chunks.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  if (complete) {
    l.bodies++;
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    scanText(`body of ${label}`, new TextDecoder().decode(bytes), label);
    return new Response(bytes, response);
  }
  l.unscanned++;
  const rest = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(rest, response);
}

/** Every console line of this isolate (the gateway's logs and the tests'), scanned before it is printed. */
export function watchConsole(): void {
  const l = ledger();
  if (l.consoleWatched) return;
  l.consoleWatched = true;
  for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const line = args
        .map((a) =>
          typeof a === "string" ? a : a instanceof Error ? `${a.name}: ${a.message}\n${a.stack}` : safeJson(a),
        )
        .join(" ");
      if (!line.startsWith(TALLY_TAG)) {
        l.logLines++;
        scanText(`console.${method}`, line);
      }
      original(...args);
    };
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Removes and returns the hits recorded since `mark` (a hygiene self-test plants one on purpose). */
export function takeHits(mark: number): Hit[] {
  return ledger().hits.splice(mark);
}

/** This file's counts, sent to the Node side as one tagged console line, then reset. */
export function reportTally(file: string): void {
  const l = ledger();
  const tally: Tally = { file, bodies: l.bodies, logLines: l.logLines, unscanned: l.unscanned, hits: l.hits };
  console.log(TALLY_TAG + JSON.stringify(tally));
  Object.assign(l, { bodies: 0, logLines: 0, unscanned: 0, hits: [], recent: [] });
}
