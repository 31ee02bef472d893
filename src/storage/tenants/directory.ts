import type { Counters } from "../../lib/counters";
import { CountedDb } from "../db";
import type { TenantStatus } from "./records";

/** A tenant as the console's list shows it. */
export interface TenantSummary {
  id: string;
  name: string;
  externalId: string | null;
  status: TenantStatus;
  creditLimit: number | null;
}

export interface TenantSearch {
  q?: string;
  status?: TenantStatus;
  before?: string;
  limit: number;
}

/**
 * The console's tenant list: newest first, keyset-paged on id, optionally filtered by status
 * and searched by name prefix (case-insensitive) or externalId prefix. Every shape reads
 * through an index: the primary key or (status, id) pages in O(page); a search reads only
 * the matching rows, through tenants_by_name and external_id's unique index.
 */
export function tenantSearchQuery(opts: TenantSearch): { sql: string; params: unknown[] } {
  const params: unknown[] = [opts.before ?? "\u{10ffff}"];
  const where = ["t.id < ?1"];
  const q = opts.q?.trim();
  // With a search, the matches drive the query; "+" keeps the planner off the status index.
  if (opts.status) where.push(`${q ? "+" : ""}t.status = ?${params.push(opts.status)}`);
  let from = "tenants t";
  if (q) {
    // A prefix is a range, [q, q + the highest code point), which each index answers on its own.
    // The matches are gathered through the two indexes first, then sorted. (With the two ranges
    // OR-ed in one WHERE, SQLite walked the whole primary key in id order, testing every row.)
    const lo = params.push(q);
    const hi = params.push(`${q}\u{10ffff}`);
    from = `(WITH hits AS MATERIALIZED (
        SELECT id FROM tenants WHERE name >= ?${lo} COLLATE NOCASE AND name < ?${hi} COLLATE NOCASE
        UNION SELECT id FROM tenants WHERE external_id >= ?${lo} AND external_id < ?${hi})
      SELECT tenants.* FROM hits JOIN tenants ON tenants.id = hits.id) t`;
  }
  const sql = `SELECT t.id, t.name, t.external_id, t.status, t.credit_limit FROM ${from}
       WHERE ${where.join(" AND ")} ORDER BY t.id DESC LIMIT ?${params.push(opts.limit)}`;
  return { sql, params };
}

export async function searchTenants(db: D1Database, counters: Counters, opts: TenantSearch): Promise<TenantSummary[]> {
  const { sql, params } = tenantSearchQuery(opts);
  const { results } = await new CountedDb(db, counters).all<{
    id: string;
    name: string;
    external_id: string | null;
    status: TenantStatus;
    credit_limit: number | null;
  }>(db.prepare(sql).bind(...params));
  return results.map((r) => ({
    id: r.id,
    name: r.name,
    externalId: r.external_id,
    status: r.status,
    creditLimit: r.credit_limit,
  }));
}
