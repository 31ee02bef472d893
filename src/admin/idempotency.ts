import { ApiError, apiError } from "../errors";
import { sha256Base64Url } from "../lib/encoding";
import { counters } from "../storage/counters";

export interface Outcome {
  status: number;
  body: unknown;
}

interface Stored {
  fingerprint: string;
  status: number | null;
  response: string | null;
  tenant_id: string | null;
}

const KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * Idempotency-Key for admin POSTs: the first result (success or client error) is stored and
 * replayed to every retry with the same key and body. A retry of a create that stopped half
 * way resumes it (`resume`) instead of starting another tenant.
 */
export async function idempotent(
  db: D1Database,
  scope: string,
  header: string | undefined,
  body: unknown,
  run: (bind: (tenantId: string) => D1PreparedStatement) => Promise<Outcome>,
  resume?: (tenantId: string) => Promise<Outcome>,
): Promise<Outcome & { replayed?: boolean }> {
  if (header === undefined) return run(() => db.prepare("SELECT 1"));
  if (!KEY.test(header)) throw apiError("invalid_request", "Idempotency-Key must be 1-200 visible ASCII characters.");
  const key = `${scope}:${header}`;
  const fingerprint = await sha256Base64Url(JSON.stringify(body ?? null));
  counters.d1Queries++;
  const claimed = await db
    .prepare(
      "INSERT INTO idempotency_keys (key, fingerprint, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key, fingerprint, Date.now())
    .run();

  const finish = async (outcome: Outcome) => {
    await db
      .prepare("UPDATE idempotency_keys SET status = ?, response = ? WHERE key = ?")
      .bind(outcome.status, JSON.stringify(outcome.body), key)
      .run();
    return outcome;
  };
  const settle = async (work: Promise<Outcome>) => {
    try {
      return await finish(await work);
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) {
        return finish({ status: err.status, body: { code: err.code, message: err.message, details: err.details } });
      }
      // Transient: a provisioning create keeps its row (and tenant id) so the retry resumes it.
      const resumable = err instanceof ApiError && err.code === "provisioning_incomplete";
      if (!resumable) await db.prepare("DELETE FROM idempotency_keys WHERE key = ?").bind(key).run();
      throw err;
    }
  };

  if (claimed.meta.changes === 1) {
    return settle(
      run((tenantId) => db.prepare("UPDATE idempotency_keys SET tenant_id = ? WHERE key = ?").bind(tenantId, key)),
    );
  }
  const stored = (await db
    .prepare("SELECT fingerprint, status, response, tenant_id FROM idempotency_keys WHERE key = ?")
    .bind(key)
    .first<Stored>())!;
  if (stored.fingerprint !== fingerprint) {
    throw apiError("idempotency_key_reused", "This Idempotency-Key was used with a different request body.");
  }
  if (stored.status !== null) return { status: stored.status, body: JSON.parse(stored.response!), replayed: true };
  if (stored.tenant_id && resume) return settle(resume(stored.tenant_id));
  throw apiError("idempotency_in_progress", "A request with this Idempotency-Key is still being processed.");
}
