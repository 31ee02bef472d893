import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";
import {
  type Answer,
  answerOf,
  CUSTOMER_FUZZ_RUNS,
  encodeSegment,
  expectSafeAnswer,
  headerValue,
  hostileJson,
  hostileString,
  upstreamChanges,
} from "./invariants";

/** Property tests over what a customer controls on /v1: method, path, query, headers and body. */

const RUNS = CUSTOMER_FUZZ_RUNS;
let idp: TestIdp;
let token: string;
let tenant: Awaited<ReturnType<typeof insertTenant>>;
const tally = { cases: 0, forwarded: 0, refused: 0, notSendable: 0 };

beforeAll(async () => {
  await sandbox.reset();
  idp = await TestIdp.create("https://fuzz-customer.example", "ES256");
  tenant = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
  token = await idp.token({}, { expiresIn: "30m" });
});

afterAll(() => {
  console.info(
    `customer fuzz: ${tally.cases} cases, ${tally.forwarded} reached Zavu, ${tally.refused} refused by the gateway, ${tally.notSendable} not sendable`,
  );
});

const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("GET", "POST", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS") },
  { weight: 1, arbitrary: fc.constantFrom("PROPFIND", "get", "Post", "patch") },
);

const segment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("messages", "balance", "msg_1", "attachments", "reactions", "typing") },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "sub-accounts",
      "..",
      ".",
      "%2e%2e",
      "%2E%2E",
      "%2F",
      "%5C",
      "",
      "contacts",
      "%00",
      "%C0%AE",
      "é",
      ";jsessionid=1",
      "messages%2F..%2Fsub-accounts",
    ),
  },
  { weight: 1, arbitrary: hostileString.map(encodeSegment) },
);

const query = fc.option(fc.array(fc.tuple(hostileString, hostileString), { maxLength: 3 }));
const withQuery = (p: string, q: Array<[string, string]> | null) => {
  const text = q ? new URLSearchParams(q).toString() : "";
  return `${p}${text ? `?${text}` : ""}`;
};

const ROUTES = [
  "POST /v1/messages",
  "GET /v1/messages",
  "GET /v1/messages/:id",
  "GET /v1/messages/:id/attachments",
  "POST /v1/messages/:id/reactions",
  "POST /v1/messages/:id/typing",
  "GET /v1/balance",
];

/** Mostly the routes customers may call, with their own method (hostile ids and queries), else anything at all. */
const target = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...ROUTES), fc.oneof(fc.constantFrom("msg_1", "msg_does_not_exist"), segment), query)
      .map(([route, id, q]) => {
        const [m, template] = route.split(" ") as [string, string];
        return [m, withQuery(template.replace(":id", id), q)] as const;
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(method, fc.array(segment, { minLength: 1, maxLength: 4 }), query)
      .map(([m, segments, q]) => [m, withQuery(`/v1/${segments.join("/")}`, q)] as const),
  },
);

const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("valid", "valid-lowercase") },
  { weight: 1, arbitrary: fc.constantFrom("none", "garbage", "basic", "two-tokens") },
);

const headers = fc.record(
  {
    "content-type": fc.oneof(
      fc.constantFrom("application/json", "text/plain", "multipart/form-data; boundary=x"),
      headerValue,
    ),
    "content-encoding": fc.oneof(fc.constantFrom("identity", "gzip", "br", "deflate", ""), headerValue),
    "accept-encoding": fc.oneof(fc.constantFrom("gzip", "br", "identity", "*", "gzip;q=0"), headerValue),
    "x-http-method-override": fc.constantFrom("DELETE", "PUT", "GET"),
    connection: fc.oneof(fc.constantFrom("close", "keep-alive, x-secret", "zavu-sender"), headerValue),
    "idempotency-key": headerValue,
    "zavu-sender": headerValue,
    "x-request-id": headerValue,
    "x-forwarded-host": fc.constant("api.zavu.internal"),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  fc.constant(undefined),
  fc.constant(JSON.stringify({ to: "+15551234567", text: "fuzz" })),
  hostileJson.map((v) => JSON.stringify(v)),
  hostileString,
  fc.constant("x".repeat(1_100_000)),
);

function authHeader(kind: string): string | undefined {
  switch (kind) {
    case "valid":
      return `Bearer ${token}`;
    case "valid-lowercase":
      return `bearer ${token}`;
    case "garbage":
      return "Bearer a.b.c";
    case "basic":
      return "Basic eDp5";
    case "two-tokens":
      return `Bearer ${token} ${token}`;
    default:
      return undefined;
  }
}

/** The request as a client could send it, or null when HTTP cannot carry it (the runtime refuses to build it). */
function build(m: string, p: string, h: Record<string, string>, auth: string, b: string | undefined): Request | null {
  try {
    const all = new Headers(h);
    const a = authHeader(auth);
    if (a) all.set("authorization", a);
    return new Request(`https://gateway.test${p}`, {
      method: m,
      headers: all,
      body: ["GET", "HEAD"].includes(m.toUpperCase()) ? undefined : b,
    });
  } catch {
    return null;
  }
}

async function sendCase(request: Request): Promise<{ answer: Answer; url: URL }> {
  const url = new URL(request.url);
  const answer = await answerOf(await gatewayFetch(`${url.pathname}${url.search}`, request));
  return { answer, url };
}

describe("fuzz: customer requests keep the invariants", () => {
  it(`method, path, query, headers and body: ${RUNS} requests`, async () => {
    await fc.assert(
      fc.asyncProperty(target, headers, authorization, body, async ([m, p], h, auth, b) => {
        const request = build(m, p, h, auth, b);
        if (!request) {
          tally.notSendable++;
          return;
        }
        await sandbox.clearRequests();
        const { answer, url } = await sendCase(request);
        tally.cases++;
        const seen = await sandbox.requests();
        const label = `${m} ${p} ${JSON.stringify(h).slice(0, 200)} auth=${auth}`;
        // Zavu's own answer to the forwarded call comes back unchanged; everything else is the gateway's.
        const forwarded = seen.find((r) => r.method === request.method && r.path === url.pathname);
        const passedThrough = forwarded !== undefined && forwarded.status === answer.status;
        expectSafeAnswer(answer, label, passedThrough, m === "HEAD");
        expect(
          seen.filter((r) => r.path.startsWith("/v1/sub-accounts")),
          label,
        ).toEqual([]);
        if (forwarded) {
          tally.forwarded++;
          for (const name of ["x-http-method-override", "x-forwarded-host"])
            expect(forwarded.headers["*names"], label).not.toContain(name);
          expect(forwarded.subAccountId, label).toBe(tenant.subAccountId);
        } else if (answer.status >= 400) {
          tally.refused++;
          expect(await upstreamChanges(), `${label}: a refused request changed Zavu`).toEqual([]);
        }
      }),
      { numRuns: RUNS },
    );
    // The tenant is as it was: same status and identity, its key still works.
    const after = (await admin("GET", `/tenants/${tenant.id}`)).body.tenant;
    expect(after).toMatchObject({ status: "active", identity: { issuer: idp.issuer } });
    const check = await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${token}` } });
    expect(check.status).toBe(200);
    await check.text();
  });
});
