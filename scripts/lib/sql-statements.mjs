/**
 * The statements of a .sql file, in order: `--` comments dropped (they hold no SQL but may hold
 * semicolons), split at semicolons that end a line, and a trigger's BEGIN ... END; kept whole.
 * @param {string} sql
 * @returns {string[]}
 */
export function sqlStatements(sql) {
  const chunks = sql
    .split("\n")
    .map((line) => line.replace(/--.*$/, ""))
    .join("\n")
    .split(/;[ \t]*$/m)
    .map((s) => s.trim())
    .filter(Boolean);
  const statements = [];
  let pending = "";
  for (const chunk of chunks) {
    pending = pending ? `${pending};\n${chunk}` : chunk;
    if (/\bCREATE\s+TRIGGER\b/i.test(pending) && !/\bEND$/i.test(pending)) continue;
    statements.push(pending);
    pending = "";
  }
  if (pending) statements.push(pending);
  return statements;
}
