import type { Admission, BudgetContext, Budgets } from "../spend/budgets";
import type { RefusalCode } from "../spend/ledger-math";

/** Answers to sends are small JSON: read once here rather than teeing the stream. */
const MAX_SPEND_BODY = 64 * 1024;

/** USD (as Zavu answers) to cents, rounded up, float-safe. */
export const usdToCents = (usd: number) => Math.ceil(Math.round(usd * 1e6) / 1e4);

type SendAnswer = { code?: string; message?: { costTotal?: number | null } } | null;

function settleFrom(status: number, body: SendAnswer, admission: Admission, budgets: Budgets, ctx: BudgetContext) {
  if (status === 402) {
    const refused: RefusalCode =
      body?.code === "insufficient_balance" ? "insufficient_balance" : "credit_limit_reached";
    budgets.settle(admission, 0, ctx, refused);
    return;
  }
  const cost = body?.message?.costTotal;
  budgets.settle(admission, typeof cost === "number" && cost >= 0 ? usdToCents(cost) : null, ctx);
}

/**
 * Settles a send's claims on the budgets from its answer, and answers with the same bytes. The body
 * is read only when the exact cost matters (see Admission.needsExactCost) or for a 402's code: reading
 * a body in JS costs ~110 µs of CPU (measured), streaming it through costs nothing.
 */
export async function settleSend(
  response: Response,
  admission: Admission,
  budgets: Budgets,
  ctx: BudgetContext,
): Promise<Response> {
  if (response.status !== 402 && !(response.ok && admission.needsExactCost)) {
    // 2xx far from every edge: the estimate stands. 4xx: nothing was charged. 5xx: nobody knows yet.
    budgets.settle(admission, response.ok || response.status >= 500 ? null : 0, ctx);
    return response;
  }
  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  if (!(length <= MAX_SPEND_BODY)) {
    const copy = response.clone();
    ctx.waitUntil(
      copy
        .json()
        .catch(() => null)
        .then((body) => settleFrom(response.status, body as SendAnswer, admission, budgets, ctx)),
    );
    return response;
  }
  const text = await response.text();
  let body: SendAnswer = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  settleFrom(response.status, body, admission, budgets, ctx);
  return new Response(text, response);
}
