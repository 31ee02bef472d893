// The deploy bundle's `zod` is src/lib/zod-alias.ts (wrangler.toml [alias]): zod's exports less its
// whole `z` namespace, so its locales are not bundled. Its answers must not change for that: every
// admin operation is sent the same invalid inputs, made from the served OpenAPI document, by the deploy
// bundle and by the same build with zod itself (buildZodReference), and every refusal must be the same,
// byte for byte (the request id aside).
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildZodReference, GATEWAY_SCRIPT, standaloneGatewayOptions, ZOD_REFERENCE_SCRIPT } from "../harness/build";

const ADMIN_TOKEN = "zod-alias-admin-token";
const BUNDLES = { deploy: GATEWAY_SCRIPT, reference: ZOD_REFERENCE_SCRIPT };
type Bundle = keyof typeof BUNDLES;

let mf: Miniflare;
beforeAll(async () => {
  buildZodReference();
  mf = new Miniflare(
    convertV4MiniflareOptions({
      handleStructuredLogs: () => {},
      workers: Object.entries(BUNDLES).map(([name, scriptPath]) => ({
        name,
        modules: true,
        scriptPath,
        ...standaloneGatewayOptions(name, ADMIN_TOKEN, 3),
      })),
    }),
  );
  await mf.ready;
}, 180_000);
afterAll(() => mf?.dispose());

async function ask(bundle: Bundle, method: string, path: string, body?: string) {
  const worker = await mf.getWorker(bundle);
  const res = await worker.fetch(`http://gateway.local${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, text: text.replace(/"requestId":"[^"]*"/g, '"requestId":"-"') };
}

type Schema = Record<string, any>;

/** Values of the wrong kind, and values just outside the schema's bounds, for one property. */
function badValues(schema: Schema, doc: Schema, depth = 0): unknown[] {
  if (schema.$ref) return badValues(doc.components.schemas[schema.$ref.split("/").pop()], doc, depth);
  const alternatives = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  const out: unknown[] = [Symbol.for("missing"), {}, [], "x", 1.5, -1, true, null];
  for (const alt of alternatives.slice(0, 3)) out.push(...badValues(alt, doc, depth + 1).slice(8));
  if (schema.type === "string") {
    out.push("", " ", "x".repeat((schema.maxLength ?? 2000) + 1), "not a url: ://", "a@", "2024-13-45");
    if (schema.minLength) out.push("x".repeat(schema.minLength - 1));
  }
  if (schema.type === "integer" || schema.type === "number")
    out.push(0, 2.5, Number.MAX_SAFE_INTEGER + 2, (schema.maximum ?? 1e9) + 1, (schema.minimum ?? -1e9) - 1);
  if (schema.enum) out.push(`${schema.enum[0]}-not`);
  if (schema.type === "array")
    out.push(
      ["x"],
      [1],
      Array.from({ length: (schema.maxItems ?? 200) + 1 }, () => "x"),
    );
  if (schema.type === "object" && depth < 2) {
    out.push({ unexpected: 1 });
    for (const [name, sub] of Object.entries<Schema>(schema.properties ?? {}))
      for (const v of badValues(sub, doc, depth + 1).slice(1, 12)) out.push({ [name]: v });
  }
  return out;
}

function withValue(name: string, value: unknown): Record<string, unknown> {
  return value === Symbol.for("missing") ? {} : { [name]: value };
}

/** Requests whose inputs the operation's schemas refuse, for every operation of the document. */
function invalidRequests(doc: Schema): Array<{ method: string; path: string; body?: string }> {
  const requests: Array<{ method: string; path: string; body?: string }> = [];
  for (const [template, operations] of Object.entries<Schema>(doc.paths)) {
    for (const [method, op] of Object.entries<Schema>(operations)) {
      const path = `/admin/v1${template.replace(/\{[^}]+\}/g, "x1")}`;
      for (const p of (op.parameters ?? []) as Schema[]) {
        if (p.in !== "query") continue;
        for (const v of ["", "x", "-1", "1.5", "99999999999999999999", "2024-13-45", "%zz"])
          requests.push({ method: method.toUpperCase(), path: `${path}?${p.name}=${v}` });
      }
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      if (!schema) continue;
      for (const raw of ["", "{", "[]", "null", '"x"', "1", "{}"])
        requests.push({ method: method.toUpperCase(), path, body: raw });
      const resolved = schema.$ref ? doc.components.schemas[schema.$ref.split("/").pop()] : schema;
      for (const [name, sub] of Object.entries<Schema>(resolved.properties ?? {}))
        for (const v of badValues(sub, doc))
          requests.push({ method: method.toUpperCase(), path, body: JSON.stringify(withValue(name, v)) });
      requests.push({ method: method.toUpperCase(), path, body: JSON.stringify({ unexpected: true }) });
    }
  }
  return requests;
}

it("every admin refusal of an invalid input is the same with the aliased zod as with zod itself", async () => {
  const doc = JSON.parse((await ask("reference", "GET", "/admin/v1/openapi.json")).text);
  // The OpenAPI document too: the schemas' metadata (`.openapi()`) is read from the same registry.
  expect((await ask("deploy", "GET", "/admin/v1/openapi.json")).text).toBe(JSON.stringify(doc));

  const requests = invalidRequests(doc);
  const differ: string[] = [];
  const messages = new Set<string>();
  let refused = 0;
  for (const r of requests) {
    const [reference, deploy] = [
      await ask("reference", r.method, r.path, r.body),
      await ask("deploy", r.method, r.path, r.body),
    ];
    if (reference.status === 400 && reference.text.includes('"code":"invalid_request"')) {
      refused++;
      for (const d of JSON.parse(reference.text).details ?? []) messages.add(d.message.replace(/\d+/g, "N"));
    }
    if (reference.status !== deploy.status || reference.text !== deploy.text)
      differ.push(
        `${r.method} ${r.path} ${r.body ?? ""}\n  zod:     ${reference.status} ${reference.text}\n  aliased: ${deploy.status} ${deploy.text}`,
      );
  }
  expect(differ).toEqual([]);
  // The comparison saw many of zod's own messages, not one refusal repeated.
  expect(refused).toBeGreaterThan(500);
  expect(messages.size).toBeGreaterThan(20);
}, 600_000);
