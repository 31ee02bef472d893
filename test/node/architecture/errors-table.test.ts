import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ERRORS } from "../../../src/errors";

it("docs/errors.md's table lists exactly the codes of src/errors.ts, with their statuses", () => {
  const section = readFileSync(join(import.meta.dirname, "../../../docs/errors.md"), "utf8");
  const documented = Object.fromEntries(
    [...section.matchAll(/^\| (\d{3}) +\| `(\w+)` +\|/gm)].map((m) => [m[2]!, Number(m[1])]),
  );
  const table = Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.status]));
  expect(documented).toEqual(table);
});
