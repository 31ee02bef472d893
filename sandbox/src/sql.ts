type Row = Record<string, SqlStorageValue>;

/** Typed reads over the Durable Object's SQLite, for the state modules beside Store. */
export function allRows<T>(sql: SqlStorage, query: string, ...params: SqlStorageValue[]): T[] {
  return sql.exec<Row>(query, ...params).toArray() as T[];
}

export function oneRow<T>(sql: SqlStorage, query: string, ...params: SqlStorageValue[]): T | undefined {
  return allRows<T>(sql, query, ...params)[0];
}
