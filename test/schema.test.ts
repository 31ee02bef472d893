import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { sqlStatements } from "../scripts/lib/sql-statements.mjs";

async function shape(db: D1Database) {
  const { results } = await db
    .prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations' ORDER BY type, name",
    )
    .all<{ type: string; name: string; tbl_name: string; sql: string | null }>();
  // Whitespace and comments differ between the texts (ALTER TABLE rewrites a table's stored SQL);
  // the objects must not.
  return results.map((r) => ({ ...r, sql: r.sql?.replace(/--[^\n]*/g, "").replace(/\s+/g, "") ?? null }));
}

it("schema.sql describes exactly what the migrations build", async () => {
  await env.SCHEMA_CHECK_DB.batch(sqlStatements(env.SCHEMA_SQL).map((s) => env.SCHEMA_CHECK_DB.prepare(s)));
  const fromSchema = await shape(env.SCHEMA_CHECK_DB);
  expect(fromSchema.length).toBeGreaterThan(4);
  expect(await shape(env.DB)).toEqual(fromSchema);
});
