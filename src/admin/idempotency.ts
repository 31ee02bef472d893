import { apiError } from "../errors";
import type { Counters } from "../lib/counters";
import { sha256Base64Url } from "../lib/encoding";
import { IdempotencyRepo } from "../storage/idempotency-repo";

export interface Outcome {
  status: number;
  body: unknown;
}

const KEY = /^[\x21-\x7e]{1,200}$/;
/** The first request holds its key this long at most (longer than any provisioning run). */
const LOCK_MS = 150_000;

/**
 * Idempotency-Key for admin POSTs. The first request claims the key and holds it while it runs: a
 * retry meanwhile, on this isolate or any other, gets 409 idempotency_in_progress and never runs the
 * work twice. The first result (success or client error) is stored and replayed to every retry with
 * the same key and body. A run that stopped half way (503 with a tenant id) releases the key, and
 * the retry resumes that tenant (`resume`) instead of starting another. A run whose isolate died
 * releases it when its hold lapses.
 */
export async function idempotent(
  deps: { db: D1Database; counters: Counters },
  scope: string,
  header: string | undefined,
  body: unknown,
  run: (bind: (tenantId: string) => D1PreparedStatement[]) => Promise<Outcome>,
  resume?: (tenantId: string) => Promise<Outcome>,
): Promise<Outcome & { replayed?: boolean }> {
  if (header === undefined) return run(() => []);
  if (!KEY.test(header)) throw apiError("invalid_request", "Idempotency-Key must be 1-200 visible ASCII characters.");
  const repo = new IdempotencyRepo(deps.db, deps.counters);
  const key = `${scope}:${header}`;
  const fingerprint = await sha256Base64Url(JSON.stringify(body ?? null));
  const now = Date.now();
  const claimed = await repo.claim(key, fingerprint, now, now + LOCK_MS);
  const bind = (tenantId: string) => [repo.bindTenantStatement(key, tenantId)];

  const finish = async (outcome: Outcome) => {
    await repo.finish(key, outcome.status, JSON.stringify(outcome.body));
    return outcome;
  };
  const settle = async (work: Promise<Outcome>) => {
    try {
      return await finish(await work);
    } catch (err) {
      const known = err as { status?: number; code?: string; message?: string; details?: unknown };
      if (typeof known.status === "number" && known.status < 500 && known.code !== "operation_in_progress") {
        return finish({
          status: known.status,
          body: { code: known.code, message: known.message, details: known.details },
        });
      }
      // Not finished: release the key for a retry. With a tenant bound to it, the retry resumes that
      // tenant; without one nothing was created, and the key is forgotten.
      await repo.release(key).catch(() => undefined);
      throw err;
    }
  };

  if (claimed) return settle(run(bind));
  const stored = await repo.get(key);
  if (!stored) throw apiError("idempotency_in_progress", "This Idempotency-Key was just released; retry.");
  if (stored.fingerprint !== fingerprint) throw apiError("idempotency_key_reused");
  if (stored.status !== null) return { status: stored.status, body: JSON.parse(stored.response!), replayed: true };
  if (stored.lockedUntil > now) throw apiError("idempotency_in_progress");
  // Released (or its holder died): take it over, one taker only (compare-and-set on the hold).
  if (!(await repo.takeOver(key, now + LOCK_MS, stored.lockedUntil))) throw apiError("idempotency_in_progress");
  if (stored.tenantId && resume) return settle(resume(stored.tenantId));
  return settle(run(bind));
}
