import { compileErrors, validate } from "@readme/openapi-parser";
import { beforeAll, expect, it } from "vitest";
import { servedAdminDocument } from "../../../scripts/lib/admin-openapi.mjs";
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
