import { readFileSync } from "node:fs";
import { compileErrors, validate } from "@readme/openapi-parser";
import { beforeAll, expect, it } from "vitest";
import {
  ADMIN_CLIENT_SCHEMA,
  adminClientTypes,
  GENERATE_COMMAND,
  servedAdminDocument,
} from "../../../scripts/lib/admin-openapi.mjs";
import { GATEWAY_SCRIPT } from "../harness/build";

// The document served at /admin/v1/openapi.json by the very bundle `wrangler deploy` uploads.
let document: Record<string, unknown>;
beforeAll(async () => {
  document = await servedAdminDocument(GATEWAY_SCRIPT);
});

it("/admin/v1/openapi.json is a valid OpenAPI 3.1 document (strict validation)", async () => {
  // Against the OpenAPI 3.1 JSON Schema (no field the specification does not define), then what a
  // schema cannot say: path parameters declared and required, unique operationIds and parameters.
  // Only the document's own $refs: nothing is fetched.
  const result = await validate(structuredClone(document) as never, { resolve: { external: false } });
  expect(result.valid ? "" : compileErrors(result)).toBe("");
  expect(result.warnings).toEqual([]);
  expect(result.specification).toBe("OpenAPI");
});

it("the Worker bundle holds none of the typed client (it is for callers of the admin API, never the gateway)", () => {
  const bundle = readFileSync(GATEWAY_SCRIPT, "utf8"); // minified, names kept
  // The client's own names, and an option only openapi-fetch reads.
  const found = ["createAdminClient", "AdminApiError", "requestInitExt"].filter((name) => bundle.includes(name));
  expect(found, "the Worker bundle imports clients/admin or openapi-fetch").toEqual([]);
});

it("the committed typed admin client (clients/admin/src/schema.d.ts) is what the served document generates", async () => {
  const generated = await adminClientTypes(document);
  const committed = readFileSync(ADMIN_CLIENT_SCHEMA, "utf8");
  const [g, c] = [generated.split("\n"), committed.split("\n")];
  let n = 0;
  while (n < g.length && g[n] === c[n]) n++;
  expect(
    generated === committed,
    `clients/admin/src/schema.d.ts is stale against /admin/v1/openapi.json: run \`${GENERATE_COMMAND}\` and commit it ` +
      `(line ${n + 1}: committed ${JSON.stringify(c[n] ?? null)}, generated ${JSON.stringify(g[n] ?? null)})`,
  ).toBe(true);
});
