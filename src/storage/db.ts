import type { Counters } from "../lib/counters";

/**
 * D1 as every repository in storage/ uses it: each query, a statement run on its own or a batch of
 * them, adds one to counters.d1Queries (what tests and GET /admin/v1/stats read to prove what a request
 * costs). Preparing a statement is not a query: statements are prepared here, then run here or handed
 * to a caller that batches them with others.
 */
export class CountedDb {
  constructor(
    private readonly d1: D1Database,
    private readonly counters: Counters,
  ) {}

  prepare(sql: string): D1PreparedStatement {
    return this.d1.prepare(sql);
  }

  first<T = Record<string, unknown>>(statement: D1PreparedStatement): Promise<T | null> {
    this.counters.d1Queries++;
    return statement.first<T>();
  }

  all<T = Record<string, unknown>>(statement: D1PreparedStatement): Promise<D1Result<T>> {
    this.counters.d1Queries++;
    return statement.all<T>();
  }

  run(statement: D1PreparedStatement): Promise<D1Result> {
    this.counters.d1Queries++;
    return statement.run();
  }

  /** The statements in one transaction: one query. */
  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    this.counters.d1Queries++;
    return this.d1.batch<T>(statements);
  }
}
