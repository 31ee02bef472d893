import { apiError } from "../errors";
import type { Counters } from "../lib/counters";
import { sha256Base64Url } from "../lib/encoding";

export interface Outcome {
  status: number;
  body: unknown;
}

interface Stored {
  fingerprint: string;
  status: number | null;
  response: string | null;
  tenant_id: string | null;
  locked_until: number;
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
  const { db } = deps;
  const key = `${scope}:${header}`;
  const fingerprint = await sha256Base64Url(JSON.stringify(body ?? null));
  const query = <T>(p: Promise<T>) => {
    deps.counters.d1Queries++;
    return p;
  };
  const now = Date.now();
  const claimed = await query(
    db
      .prepare(
        `INSERT INTO idempotency_keys (key, fingerprint, created_at, locked_until) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO NOTHING`,
      )
      .bind(key, fingerprint, now, now + LOCK_MS)
      .run(),
  );
  const bind = (tenantId: string) => [
    db.prepare("UPDATE idempotency_keys SET tenant_id = ? WHERE key = ?").bind(tenantId, key),
  ];

  const finish = async (outcome: Outcome) => {
    await query(
      db
        .prepare("UPDATE idempotency_keys SET status = ?, response = ?, locked_until = 0 WHERE key = ?")
        .bind(outcome.status, JSON.stringify(outcome.body), key)
        .run(),
    );
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
      await query(
        db.batch([
          db.prepare("UPDATE idempotency_keys SET locked_until = 0 WHERE key = ? AND tenant_id IS NOT NULL").bind(key),
          db.prepare("DELETE FROM idempotency_keys WHERE key = ? AND tenant_id IS NULL AND status IS NULL").bind(key),
        ]),
      ).catch(() => undefined);
      throw err;
    }
  };

  if (claimed.meta.changes === 1) return settle(run(bind));
  const stored = await query(
    db
      .prepare("SELECT fingerprint, status, response, tenant_id, locked_until FROM idempotency_keys WHERE key = ?")
      .bind(key)
      .first<Stored>(),
  );
  if (!stored) throw apiError("idempotency_in_progress", "This Idempotency-Key was just released; retry.");
  if (stored.fingerprint !== fingerprint) throw apiError("idempotency_key_reused");
  if (stored.status !== null) return { status: stored.status, body: JSON.parse(stored.response!), replayed: true };
  if (stored.locked_until > now) throw apiError("idempotency_in_progress");
  // Released (or its holder died): take it over, one taker only (compare-and-set on the hold).
  const took = await query(
    db
      .prepare("UPDATE idempotency_keys SET locked_until = ? WHERE key = ? AND locked_until = ? AND status IS NULL")
      .bind(now + LOCK_MS, key, stored.locked_until)
      .run(),
  );
  if (took.meta.changes !== 1) throw apiError("idempotency_in_progress");
  if (stored.tenant_id && resume) return settle(resume(stored.tenant_id));
  return settle(run(bind));
}
