import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Env } from "../src/env";
import { createGateway } from "../src/index";
import { createIsolateState } from "../src/state";
import { ADMIN_TOKEN, admin, tenantBody } from "./helpers/admin";
import { deployment } from "./helpers/deployment";
import { GATEWAY_URL, gatewayClient, gatewayFetch } from "./helpers/gateway";
import { TestIdp } from "./helpers/idp";
import { sandbox } from "./helpers/sandbox";

/** Every structured line the gateway writes while `fn` runs, parsed. */
async function linesDuring(fn: () => Promise<unknown>) {
  const lines: any[] = [];
  const raw: string[] = [];
  const capture = (text: unknown) => {
    if (typeof text !== "string") return;
    raw.push(text);
    if (text.startsWith('{"at":"')) lines.push(JSON.parse(text));
  };
  vi.spyOn(console, "log").mockImplementation(capture);
  vi.spyOn(console, "error").mockImplementation(capture);
  await fn();
  vi.restoreAllMocks();
  return { lines, raw };
}

const ADMIN_KEYS = ["at", "kind", "requestId", "actor", "method", "route", "tenantId", "status", "latencyMs", "code"];
let tenantId: string;
let idp: TestIdp;

beforeAll(async () => {
  await sandbox.reset();
  idp = await TestIdp.create(`https://obs-${crypto.randomUUID()}.example`, "ES256");
  tenantId = (await admin("POST", "/tenants", { body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }) })).body
    .tenant.id;
});
afterEach(() => vi.restoreAllMocks());

describe("one structured line per customer request", () => {
  const REQUEST_KEYS = [
    "at",
    "kind",
    "requestId",
    "tenantId",
    "method",
    "route",
    "status",
    "upstreamStatus",
    "latencyMs",
    "cache",
    "refusal",
    "sampleRate",
  ];

  it("names the tenant, the route, both statuses and which caches answered; never the token", async () => {
    const token = await idp.token();
    const client = gatewayClient(token);
    const { lines, raw } = await linesDuring(async () => {
      await client.messages.send({ to: "+15551234567" }); // first sight of this token
      await client.messages.send({ to: "+15551234567" }); // all from the isolate's caches
    });
    const requests = lines.filter((l) => l.kind === "request");
    expect(requests).toHaveLength(2);
    for (const line of requests) {
      expect(Object.keys(line)).toEqual(REQUEST_KEYS);
      expect(line).toMatchObject({
        tenantId,
        method: "POST",
        route: "POST /v1/messages",
        status: 202,
        upstreamStatus: 202,
        refusal: null,
      });
    }
    expect(requests[0].cache.token).toBe(false);
    expect(requests[1].cache).toEqual({ token: true, key: true });
    expect(raw.join("\n")).not.toContain(token);
  });

  it("a refusal names its code, and no upstream status when Zavu was never asked", async () => {
    const { lines } = await linesDuring(() =>
      gatewayFetch("/v1/balance", { headers: { authorization: "Bearer nope" } }),
    );
    expect(lines.filter((l) => l.kind === "request")).toEqual([
      expect.objectContaining({
        tenantId: null,
        route: null,
        status: 401,
        upstreamStatus: null,
        refusal: "unauthorized",
      }),
    ]);
  });
});

describe("customer request lines by policy, not by volume", () => {
  /** A gateway isolate under other logging vars (a deployment's), sending one request. */
  async function sendWith(vars: Partial<Env>, token: string, body: unknown = { to: "+15551234567" }) {
    const gateway = createGateway(createIsolateState());
    const ctx = createExecutionContext();
    const res = await gateway.fetch(
      new Request(`${GATEWAY_URL}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
      { ...env, ...vars } as Env,
      ctx,
    );
    await res.arrayBuffer();
    await waitOnExecutionContext(ctx);
    return res.status;
  }

  it("at LOG_SAMPLE_RATE 0, only refusals, errors and slow requests are logged, each marked sampleRate 1", async () => {
    const quiet = { LOG_SAMPLE_RATE: "0", LOG_SLOW_MS: "60000" };
    const token = await idp.token();
    const { lines } = await linesDuring(async () => {
      expect(await sendWith(quiet, token)).toBe(202); // ordinary: not logged
      expect(await sendWith(quiet, "not-a-token")).toBe(401); // the gateway's refusal
      expect(await sendWith(quiet, token, { to: "not a number" })).toBe(400); // Zavu's own 4xx, passed through
      expect(await sendWith({ LOG_SAMPLE_RATE: "0", LOG_SLOW_MS: "0" }, token)).toBe(202); // slow (every one is, at 0 ms)
    });
    const requests = lines.filter((l) => l.kind === "request");
    expect(requests.map((l) => [l.status, l.refusal, l.sampleRate])).toEqual([
      [401, "unauthorized", 1],
      [400, null, 1],
      [202, null, 1],
    ]);
  });

  it("the rest are sampled at LOG_SAMPLE_RATE, and say so", async () => {
    const token = await idp.token();
    const random = vi.spyOn(Math, "random");
    const { lines } = await linesDuring(async () => {
      random.mockReturnValue(0.04); // under the rate: logged
      expect(await sendWith({ LOG_SAMPLE_RATE: "0.05" }, token)).toBe(202);
      random.mockReturnValue(0.06); // over it: not
      expect(await sendWith({ LOG_SAMPLE_RATE: "0.05" }, token)).toBe(202);
    });
    expect(lines.filter((l) => l.kind === "request").map((l) => [l.status, l.sampleRate])).toEqual([[202, 0.05]]);
  });

  it("usage records do not depend on the log: unlogged sends are counted", async () => {
    const token = await idp.token();
    const before = await sends();
    for (let i = 0; i < 3; i++) expect(await sendWith({ LOG_SAMPLE_RATE: "0" }, token)).toBe(202);
    expect(await sends()).toBe(before + 3);
  });
});

async function sends(): Promise<number> {
  const res = await admin("GET", `/tenants/${tenantId}/usage`);
  expect(res.status).toBe(200);
  return (res.body.items as Array<{ sends: number }>).reduce((n, i) => n + i.sends, 0);
}

describe("one structured line per admin call", () => {
  it("names the actor (a token fingerprint, plus X-Admin-Actor), the route pattern, the tenant and the outcome", async () => {
    const { lines, raw } = await linesDuring(() =>
      admin("GET", `/tenants/${tenantId}`, { headers: { "x-admin-actor": "alice@reseller.example" } }),
    );
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(Object.keys(line)).toEqual(ADMIN_KEYS);
    expect(line).toMatchObject({
      kind: "admin",
      actor: expect.stringMatching(/^admin:[A-Za-z0-9_-]{8} \(alice@reseller\.example\)$/),
      method: "GET",
      route: "/admin/v1/tenants/:id",
      tenantId,
      status: 200,
      code: null,
    });
    expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(raw.join("\n")).not.toContain(ADMIN_TOKEN);
  });

  it("an error answer carries its code; a failed authentication has no actor", async () => {
    const { lines } = await linesDuring(async () => {
      await admin("GET", "/tenants/tnt_00000000000000000000000000");
      await admin("GET", "/tenants", { token: "wrong" });
      await admin("POST", "/tenants", { body: { name: "" } });
    });
    expect(lines.map((l) => [l.status, l.code, l.actor === null])).toEqual([
      [404, "not_found", false],
      [401, "unauthorized", true],
      [400, "invalid_request", false],
    ]);
    expect(lines[1].route).toBe("/admin/v1/tenants");
  });

  it("the request id in the line is the one the answer carries", async () => {
    let answered = "";
    const { lines } = await linesDuring(async () => {
      answered = (await admin("GET", "/audit?limit=1")).headers.get("x-request-id") ?? "";
    });
    expect(lines[0].requestId).toBe(answered);
  });
});

describe("one structured line per maintenance run", () => {
  it("lists each job's outcome and counts, and the calls the run made", async () => {
    const { lines } = await linesDuring(() => deployment().scheduled());
    expect(lines).toHaveLength(1);
    expect(Object.keys(lines[0])).toEqual(["at", "kind", "runId", "trigger", "durationMs", "subrequests", "jobs"]);
    expect(lines[0].subrequests).toBeGreaterThan(0);
    for (const job of lines[0].jobs) expect(Object.keys(job)).toEqual(["job", "outcome", "counts", "passComplete"]);
  });
});
