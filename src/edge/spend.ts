import type { Admission, BudgetContext, Budgets } from "../spend/budgets";
import type { RefusalCode } from "../spend/ledger-math";

/** Answers to sends are small JSON: read once here rather than teeing the stream. */
const MAX_SPEND_BODY = 64 * 1024;

/** USD (as Zavu answers) to cents, rounded up, float-safe. */
export const usdToCents = (usd: number) => Math.ceil(Math.round(usd * 1e6) / 1e4);

/** A send's cost above this (USD) is not believed: the send counts as of unknown cost (estimated). */
const MAX_SEND_COST_USD = 10_000;

type Body = { code?: unknown; message?: { costTotal?: number | null; channel?: unknown } } | null;

/** What the gateway learned from a send's answer (all null when it did not read it). */
export interface SendAnswer {
  status: number;
  /** Zavu's error code of a refusal. */
  code: string | null;
  channel: string | null;
  costCents: number | null;
  /** The body as read (for a refusal the gateway remembers and replays). */
  text: string | null;
}

export function answerOf(status: number, text: string | null): SendAnswer {
  let body: Body = null;
  try {
    body = text === null ? null : (JSON.parse(text) as Body);
  } catch {
    body = null;
  }
  const cost = body?.message?.costTotal;
  const channel = body?.message?.channel;
  const code = body?.code;
  // Counted and stored as they are: a code or channel of any length, or a cost of 1e999 (Infinity), is not.
  return {
    status,
    code: typeof code === "string" && code.length <= 64 ? code : null,
    channel: typeof channel === "string" && channel.length <= 32 ? channel : null,
    costCents:
      status >= 200 && status < 300 && typeof cost === "number" && cost >= 0 && cost <= MAX_SEND_COST_USD
        ? usdToCents(cost)
        : null,
    text,
  };
}

function settleFrom(answer: SendAnswer, admission: Admission, budgets: Budgets, ctx: BudgetContext) {
  const { status } = answer;
  if (status === 402) {
    const refused: RefusalCode =
      answer.code === "insufficient_balance" ? "insufficient_balance" : "credit_limit_reached";
    budgets.settle(admission, { sent: false, cost: 0, refused }, ctx);
  } else if (status >= 200 && status < 300) {
    budgets.settle(admission, { sent: true, cost: answer.costCents }, ctx);
  } else if (status >= 500) {
    budgets.settle(admission, zavuRefused(answer) ? { sent: false, cost: 0 } : { sent: null, cost: null }, ctx);
  } else {
    budgets.settle(admission, { sent: false, cost: 0 }, ctx);
  }
}

/**
 * A 5xx that Zavu itself answered, with its error body (`{code, message}`), means the send did not
 * happen: its estimate goes back at once. A 502 or 504 (a proxy or load balancer between the gateway
 * and Zavu gave up), or a body that is not Zavu's, leaves the outcome unknown: the estimate stands
 * until the ledger's next refresh from Zavu says what was charged.
 */
function zavuRefused(answer: SendAnswer): boolean {
  return answer.code !== null && answer.status !== 502 && answer.status !== 504;
}

/**
 * Settles a send's claims on the budgets from its answer, and answers with the same bytes. The body
 * is read only when the exact cost matters (see Admission.needsExactCost, or USAGE_EXACT) or for a
 * refusal's code (4xx): reading a body in JS costs ~110 µs of CPU (measured), streaming it through
 * costs nothing. `answer` resolves with what was learned: at once, or once a long body was read in
 * the background.
 */
export async function settleSend(
  response: Response,
  admission: Admission,
  budgets: Budgets,
  ctx: BudgetContext,
  readEvery: boolean,
): Promise<{ response: Response; answer: SendAnswer | Promise<SendAnswer> }> {
  // Refusals (4xx) and failures (5xx) are read for Zavu's code: rare, and they decide what is given back.
  const failed = response.status >= 400;
  if (!failed && !(response.ok && (admission.needsExactCost || readEvery))) {
    // 2xx far from every edge: the estimate stands.
    const answer = answerOf(response.status, null);
    settleFrom(answer, admission, budgets, ctx);
    return { response, answer };
  }
  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  if (!(length <= MAX_SPEND_BODY)) {
    const copy = response.clone();
    const answer = copy
      .text()
      .catch(() => null)
      .then((text) => {
        const a = answerOf(response.status, text);
        settleFrom(a, admission, budgets, ctx);
        return a;
      });
    ctx.waitUntil(answer);
    return { response, answer };
  }
  const text = await response.text();
  const answer = answerOf(response.status, text);
  settleFrom(answer, admission, budgets, ctx);
  return { response: new Response(text, response), answer };
}
