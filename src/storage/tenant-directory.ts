import { counters } from "./counters";
import type { TenantStatus } from "./tenants";

/** A tenant as the console's list shows it. */
export interface TenantSummary {
  id: string;
  name: string;
  externalId: string | null;
  status: TenantStatus;
  creditLimit: number | null;
}

/**
 * The console's tenant list: newest first, keyset-paged on id, optionally filtered by status
 * and searched by name prefix (case-insensitive) or externalId prefix. Every shape reads
 * through an index: the primary key or (status, id) pages in O(page); a search reads only
 * the matching rows, through tenants_by_name and external_id's unique index.
 */
export async function searchTenants(
  db: D1Database,
  opts: { q?: string; status?: TenantStatus; before?: string; limit: number },
): Promise<TenantSummary[]> {
  const params: unknown[] = [opts.before ?? "\u{10ffff}"];
  const where = ["id < ?1"];
  if (opts.status) where.push(`status = ?${params.push(opts.status)}`);
  const q = opts.q?.trim();
  if (q) {
    // A prefix is a range: [q, q + the highest code point). Ranges use the indexes; LIKE would not here.
    const from = params.push(q);
    const to = params.push(`${q}\u{10ffff}`);
    where.push(
      `((name >= ?${from} COLLATE NOCASE AND name < ?${to} COLLATE NOCASE) OR (external_id >= ?${from} AND external_id < ?${to}))`,
    );
  }
  counters.d1Queries++;
  const { results } = await db
    .prepare(
      `SELECT id, name, external_id, status, credit_limit FROM tenants WHERE ${where.join(" AND ")}
       ORDER BY id DESC LIMIT ?${params.push(opts.limit)}`,
    )
    .bind(...params)
    .all<{ id: string; name: string; external_id: string | null; status: TenantStatus; credit_limit: number | null }>();
  return results.map((r) => ({
    id: r.id,
    name: r.name,
    externalId: r.external_id,
    status: r.status,
    creditLimit: r.credit_limit,
  }));
}

/** Tenants by status, from the (status, id) index alone. */
export async function countTenantsByStatus(db: D1Database): Promise<Record<TenantStatus, number>> {
  counters.d1Queries++;
  const { results } = await db
    .prepare("SELECT status, COUNT(*) AS n FROM tenants GROUP BY status")
    .all<{ status: TenantStatus; n: number }>();
  const counts: Record<TenantStatus, number> = { provisioning: 0, active: 0, inactive: 0, deactivated: 0 };
  for (const r of results) counts[r.status] = r.n;
  return counts;
}
