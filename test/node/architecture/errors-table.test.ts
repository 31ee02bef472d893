import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ERRORS } from "../../../src/errors";

it("the README's error table lists exactly the codes of src/errors.ts, with their statuses", () => {
  const readme = readFileSync(join(import.meta.dirname, "../../../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Errors"), readme.indexOf("\n## ", readme.indexOf("## Errors") + 1));
  const documented = Object.fromEntries(
    [...section.matchAll(/^\| (\d{3}) +\| `(\w+)` +\|/gm)].map((m) => [m[2]!, Number(m[1])]),
  );
  const table = Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.status]));
  expect(documented).toEqual(table);
});
