import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin } from "../helpers/admin";
import { gatewayFetch } from "../helpers/gateway";
import { publishJwks, TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import {
  answerOf,
  encodeSegment,
  expectSafeAnswer,
  FUZZ_RUNS,
  headerValue,
  hostileJson,
  hostileString,
  stateSnapshot,
  upstreamChanges,
} from "./invariants";

/** Property tests over the admin API's inputs: bodies (mutated from a valid one), query strings, ids, headers. */

let idp: TestIdp;
let tenantId: string;
let issuers = 0;
const tally = { cases: 0, accepted: 0, refused: 0 };

beforeAll(async () => {
  await sandbox.reset();
  idp = await TestIdp.create("https://fuzz-admin.idp.example", "ES256");
  const res = await admin("POST", "/tenants", {
    body: { name: "Fuzz target", identity: { issuer: idp.issuer, jwks: idp.jwks() } },
  });
  expect(res.status, res.text).toBe(201);
  tenantId = res.body.tenant.id;
});

afterAll(() => {
  console.info(`admin fuzz: ${tally.cases} cases, ${tally.accepted} accepted, ${tally.refused} refused`);
});

type Path = string[];
interface Mutation {
  path: Path;
  value?: unknown;
  remove: boolean;
}

/** A mutation of a valid body: a known field (or an unknown one) set to a hostile value, or removed. */
const mutation = (paths: Path[]): fc.Arbitrary<Mutation> =>
  fc.record({
    path: fc.oneof(
      fc.constantFrom(...paths),
      hostileString.map((k) => [k]),
    ),
    value: hostileJson,
    remove: fc.boolean(),
  });

function applyMutations(template: unknown, mutations: Mutation[]): unknown {
  const body = structuredClone(template) as Record<string, unknown>;
  for (const { path, value, remove } of mutations) {
    let node: Record<string, unknown> = body;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (typeof next !== "object" || next === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (remove) delete node[last];
    else Object.defineProperty(node, last, { value, enumerable: true, configurable: true, writable: true });
  }
  return body;
}

/** How the body is sent: JSON (most of the time), broken JSON, or another content type. */
const encoding = fc.constantFrom<"json" | "truncated" | "text/plain" | "no-type" | "utf-16">(
  "json",
  "json",
  "json",
  "json",
  "truncated",
  "text/plain",
  "no-type",
  "utf-16",
);

const adminHeaders = fc.record({ "idempotency-key": headerValue, "x-admin-actor": headerValue }, { requiredKeys: [] });

async function send(
  method: string,
  path: string,
  body: unknown,
  how: "json" | "truncated" | "text/plain" | "no-type" | "utf-16",
  extra: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  const headers = new Headers({ authorization: `Bearer ${ADMIN_TOKEN}` });
  if (how === "json" || how === "truncated") headers.set("content-type", "application/json");
  if (how === "text/plain") headers.set("content-type", "text/plain");
  if (how === "utf-16") headers.set("content-type", "application/json; charset=utf-16");
  try {
    for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  } catch {
    fc.pre(false); // not a value HTTP can carry: nothing to send
  }
  return answerOf(
    await gatewayFetch(`/admin/v1${path}`, {
      method,
      headers,
      body: how === "truncated" ? text.slice(0, Math.max(1, text.length - 3)) : text,
    }),
  );
}

/** The admin state as last seen; it can only change when a request is accepted. */
let known: string | undefined;

/** One fuzz case: the answer keeps invariants 1-3; a refused one changes nothing (invariant 4). */
async function checkCase(label: string, run: () => Promise<Awaited<ReturnType<typeof send>>>) {
  known ??= await stateSnapshot();
  await sandbox.clearRequests();
  const answer = await run();
  tally.cases++;
  expectSafeAnswer(answer, label);
  if (answer.status >= 400) {
    tally.refused++;
    expect(await stateSnapshot(), `${label}: a refused request changed the admin state`).toBe(known);
    expect(await upstreamChanges(), `${label}: a refused request changed Zavu`).toEqual([]);
  } else {
    tally.accepted++;
    known = undefined;
  }
}

const identityPaths: Path[] = [
  ["identity"],
  ["identity", "issuer"],
  ["identity", "audience"],
  ["identity", "jwks"],
  ["identity", "jwks", "keys"],
  ["identity", "jwks", "keys", "0"],
  ["identity", "jwks", "keys", "0", "kty"],
  ["identity", "jwks", "keys", "0", "crv"],
  ["identity", "jwks", "keys", "0", "x"],
  ["identity", "jwks", "keys", "0", "alg"],
  ["identity", "jwksUri"],
  ["identity", "algorithms"],
  ["identity", "claim"],
  ["identity", "claim", "name"],
  ["identity", "claim", "value"],
];

describe("fuzz: admin API inputs keep the invariants", () => {
  it(`POST /tenants: ${FUZZ_RUNS} bodies mutated from a valid one`, async () => {
    const paths: Path[] = [["name"], ["externalId"], ["creditLimit"], ["metadata"], ...identityPaths];
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation(paths), { minLength: 1, maxLength: 3 }),
        encoding,
        adminHeaders,
        async (mutations, how, headers) => {
          const issuer = `https://fuzz-${++issuers}.idp.example`;
          const template = { name: "Fuzz Co", identity: { issuer, jwks: idp.jwks() } };
          const body = applyMutations(template, mutations);
          await checkCase(`POST /tenants ${JSON.stringify(body).slice(0, 200)}`, () =>
            send("POST", "/tenants", body, how, headers),
          );
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`PATCH /tenants/{id}: ${FUZZ_RUNS} bodies`, async () => {
    const paths: Path[] = [["name"], ["externalId"], ["creditLimit"], ["metadata"], ["status"]];
    await fc.assert(
      fc.asyncProperty(fc.array(mutation(paths), { minLength: 1, maxLength: 3 }), encoding, async (mutations, how) => {
        const body = applyMutations({ name: "Fuzz target" }, mutations);
        await checkCase(`PATCH ${JSON.stringify(body).slice(0, 200)}`, () =>
          send("PATCH", `/tenants/${tenantId}`, body, how),
        );
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`PUT /tenants/{id}/identity and POST /tenants/import: ${FUZZ_RUNS} bodies each`, async () => {
    const inner = identityPaths.map((p) => p.slice(1)).filter((p) => p.length > 0);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation(inner), { minLength: 1, maxLength: 3 }), encoding, async (mutations, how) => {
        const identity = applyMutations(
          { issuer: `https://fuzz-${++issuers}.idp.example`, jwks: idp.jwks() },
          mutations,
        );
        await checkCase(`PUT identity ${JSON.stringify(identity).slice(0, 200)}`, () =>
          send("PUT", `/tenants/${tenantId}/identity`, identity, how),
        );
      }),
      { numRuns: FUZZ_RUNS },
    );
    const paths: Path[] = [["subAccountId"], ["apiKey"], ["name"], ["externalId"], ["metadata"], ...identityPaths];
    await fc.assert(
      fc.asyncProperty(fc.array(mutation(paths), { minLength: 1, maxLength: 3 }), encoding, async (mutations, how) => {
        const template = {
          subAccountId: "sa_fuzz000000000000",
          apiKey: "zv_live_sub_fuzzfuzzfuzz",
          identity: { issuer: `https://fuzz-${++issuers}.idp.example`, jwks: idp.jwks() },
        };
        const body = applyMutations(template, mutations);
        await checkCase(`POST import ${JSON.stringify(body).slice(0, 200)}`, () =>
          send("POST", "/tenants/import", body, how),
        );
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`what a jwksUri serves: ${FUZZ_RUNS} JSON documents`, async () => {
    const served = fc.oneof(
      hostileJson,
      fc.array(hostileJson, { maxLength: 3 }).map((keys) => ({ keys })),
      fc.dictionary(hostileString, hostileJson, { maxKeys: 4 }).map((k) => ({ keys: [{ ...idp.publicJwk, ...k }] })),
    );
    await fc.assert(
      fc.asyncProperty(served, async (document) => {
        const uri = await publishJwks(`/fuzz/${++issuers}.json`, document);
        const body = { name: "Fuzz Co", identity: { issuer: `https://fuzz-${issuers}.idp.example`, jwksUri: uri } };
        await checkCase(`jwksUri serving ${JSON.stringify(document).slice(0, 200)}`, () =>
          send("POST", "/tenants", body, "json"),
        );
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`query strings and path ids: ${FUZZ_RUNS} requests`, async () => {
    const param = fc.tuple(
      fc.oneof(fc.constantFrom("limit", "cursor", "status", "externalId", "tenantId"), hostileString),
      hostileString,
    );
    const route = fc.oneof(
      fc.constantFrom("GET /tenants", "GET /audit"),
      fc
        .tuple(
          fc.constantFrom("GET", "PATCH", "DELETE", "POST", "PUT"),
          hostileString,
          fc.constantFrom("", "/identity", "/balance", "/api-keys", "/rotate-key", "/repair", "/x"),
        )
        .map(([method, id, sub]) => `${method} /tenants/${encodeSegment(id)}${sub}`),
    );
    await fc.assert(
      fc.asyncProperty(route, fc.array(param, { maxLength: 4 }), async (methodPath, params) => {
        const [method, path] = methodPath.split(" ") as [string, string];
        const query = new URLSearchParams(params).toString();
        await checkCase(`${method} ${path}?${query}`, async () =>
          answerOf(
            await gatewayFetch(`/admin/v1${path}${query ? `?${query}` : ""}`, {
              method,
              headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
              body: method === "GET" || method === "DELETE" ? undefined : "{}",
            }),
          ),
        );
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
