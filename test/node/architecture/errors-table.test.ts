import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ERRORS } from "../../../src/errors";

/** `| 401 | `unauthorized` | ...` rows of a page's tables, as code -> status. */
function codeRows(page: string): Record<string, number> {
  const text = readFileSync(join(import.meta.dirname, "../../..", page), "utf8");
  return Object.fromEntries([...text.matchAll(/^\| (\d{3}) +\| `(\w+)` +\|/gm)].map((m) => [m[2]!, Number(m[1])]));
}

it("docs/errors.md's table lists exactly the codes of src/errors.ts, with their statuses", () => {
  const documented = codeRows("docs/errors.md");
  const table = Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.status]));
  expect(documented).toEqual(table);
});

it("the codes docs/customers.md lists for customer apps are codes of src/errors.ts, with their statuses", () => {
  const listed = Object.entries(codeRows("docs/customers.md"));
  expect(listed.length).toBeGreaterThan(10);
  expect(listed.filter(([code, status]) => ERRORS[code as keyof typeof ERRORS]?.status !== status)).toEqual([]);
});
