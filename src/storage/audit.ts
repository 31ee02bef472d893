import type { Counters } from "../lib/counters";
import { CountedDb } from "./db";

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  tenantId: string | null;
  requestId: string | null;
  detail: Record<string, unknown> | null;
}

/** Appends to the audit log. `detail` must never carry a secret: callers pass ids, prefixes, codes. */
export function auditStatement(
  db: D1Database,
  entry: {
    actor: string;
    action: string;
    tenantId?: string | null;
    requestId?: string | null;
    detail?: Record<string, unknown>;
  },
): D1PreparedStatement {
  return db
    .prepare("INSERT INTO audit_log (at, actor, action, tenant_id, request_id, detail) VALUES (?, ?, ?, ?, ?, ?)")
    .bind(
      Date.now(),
      entry.actor,
      entry.action,
      entry.tenantId ?? null,
      entry.requestId ?? null,
      entry.detail ? JSON.stringify(entry.detail) : null,
    );
}

export async function listAudit(
  db: D1Database,
  counters: Counters,
  opts: { tenantId?: string; limit: number; before?: number },
): Promise<AuditEntry[]> {
  const params: unknown[] = [opts.before ?? Number.MAX_SAFE_INTEGER];
  let where = "id < ?1";
  if (opts.tenantId) where += ` AND tenant_id = ?${params.push(opts.tenantId)}`;
  const { results } = await new CountedDb(db, counters).all<{
    id: number;
    at: number;
    actor: string;
    action: string;
    tenant_id: string | null;
    request_id: string | null;
    detail: string | null;
  }>(
    db
      .prepare(`SELECT * FROM audit_log WHERE ${where} ORDER BY id DESC LIMIT ?${params.push(opts.limit)}`)
      .bind(...params),
  );
  return results.map((r) => ({
    id: r.id,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    action: r.action,
    tenantId: r.tenant_id,
    requestId: r.request_id,
    detail: r.detail ? JSON.parse(r.detail) : null,
  }));
}
