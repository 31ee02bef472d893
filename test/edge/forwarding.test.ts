import { beforeAll, describe, expect, it } from "vitest";
import { gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";
import { INTERNAL_HEADERS } from "../workers/upstream-router.mjs";

let idp: TestIdp;

beforeAll(async () => {
  await sandbox.reset();
  idp = await TestIdp.create("https://forwarding.example", "ES256");
  await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
});

const json = { to: "+15551234567", text: "forwarding" };

async function send(headers: Record<string, string>, body: BodyInit = JSON.stringify(json), path = "/v1/messages") {
  return gatewayFetch(path, {
    method: "POST",
    headers: { authorization: `Bearer ${await idp.token()}`, "content-type": "application/json", ...headers },
    body,
  });
}

const lastUpstream = async () => (await sandbox.requests())[0];

/** What Zavu may see: what the SDK sends, what the gateway sets, what the runtime adds to every subrequest. */
const MAY_REACH_ZAVU = new Set([
  ...["accept", "accept-encoding", "accept-language", "content-type", "idempotency-key", "zavu-sender", "user-agent"],
  ...["authorization", "x-request-id"],
  ...["cf-worker", "content-length", "host"],
]);
const mayReachZavu = (name: string) => MAY_REACH_ZAVU.has(name) || name.startsWith("x-stainless-");

describe("forwarding: request headers go upstream by allowlist", () => {
  it("forwards only allowlisted headers: method overrides, custom hop-by-hop and proxy headers stay behind", async () => {
    await sandbox.clearRequests();
    const hostile: Record<string, string> = {
      "x-http-method-override": "DELETE",
      "x-http-method": "DELETE",
      "x-method-override": "DELETE",
      connection: "x-hop-secret, zavu-sender",
      "x-hop-secret": "hop",
      forwarded: "for=10.0.0.1;host=internal",
      "x-forwarded-host": "api.zavu.internal",
      "x-original-url": "/v1/sub-accounts",
      "x-rewrite-url": "/v1/sub-accounts",
      "x-real-ip": "10.0.0.1",
      "true-client-ip": "10.0.0.1",
      "x-zavu-account": "main",
      "x-api-key": "zv_live_guess",
      origin: "https://evil.example",
      referer: "https://evil.example/page",
      "proxy-authorization": "Basic eDp5",
      te: "trailers",
      priority: "u=0",
      "zavu-sender": "snd_should_drop_because_named_in_connection",
    };
    const res = await send({ ...hostile, "idempotency-key": "fwd-1", "accept-language": "en" });
    expect(res.status).toBe(202);
    const call = (await lastUpstream())!;
    const names = call.headers["*names"]!.split(",");
    expect(names.filter((n) => !mayReachZavu(n))).toEqual([]);
    for (const name of Object.keys(hostile)) expect(names).not.toContain(name);
    expect(call.headers["idempotency-key"]).toBe("fwd-1");
    expect(call.method).toBe("POST");
  });

  it("ignores a Connection header that names no valid header (found by fuzzing: it was a 500)", async () => {
    await sandbox.clearRequests();
    const res = await send({ connection: "(, ), zavu-sender", "zavu-sender": "snd_hop" });
    expect(res.status).toBe(202);
    expect((await lastUpstream())!.headers["zavu-sender"]).toBeUndefined();
  });

  it("passes the SDK's own headers (zavu-sender, idempotency-key, user-agent, x-stainless-*)", async () => {
    await sandbox.clearRequests();
    const res = await send({
      "zavu-sender": "snd_42",
      "idempotency-key": "fwd-2",
      "user-agent": "Zavudev/JS 0.57.0",
      "x-stainless-lang": "js",
      "x-stainless-retry-count": "0",
    });
    expect(res.status).toBe(202);
    const call = (await lastUpstream())!;
    expect(call.headers).toMatchObject({
      "zavu-sender": "snd_42",
      "idempotency-key": "fwd-2",
      "user-agent": "Zavudev/JS 0.57.0",
    });
    expect(call.headers["*names"]).toContain("x-stainless-retry-count");
  });
});

describe("forwarding: content codings", () => {
  it.each(["gzip", "deflate", "br", "zstd", "gzip, identity", "x-custom"])(
    "refuses a request body with Content-Encoding %s (415), before Zavu",
    async (encoding) => {
      await sandbox.clearRequests();
      const gz = await new Response(
        new Blob([JSON.stringify(json)]).stream().pipeThrough(new CompressionStream("gzip")),
      ).arrayBuffer();
      const res = await send({ "content-encoding": encoding }, gz);
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ code: "unsupported_content_encoding" });
      expect(await sandbox.requests()).toEqual([]);
    },
  );

  it("accepts Content-Encoding identity", async () => {
    expect((await send({ "content-encoding": "identity" })).status).toBe(202);
  });

  it("a client that sent no Accept-Encoding gets an uncompressed answer", async () => {
    const res = await send({});
    expect(res.status).toBe(202);
    expect(res.headers.get("content-encoding")).toBeNull();
    expect(((await res.json()) as { message: { text: string } }).message.text).toBe("forwarding");
    const balance = await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${await idp.token()}` } });
    expect(balance.headers.get("content-encoding")).toBeNull();
  });

  it("a client's own Accept-Encoding goes upstream: gzip when it asks, none when it accepts only br", async () => {
    const gzip = await send({ "accept-encoding": "gzip" });
    expect(gzip.headers.get("content-encoding")).toBe("gzip");
    expect(((await gzip.json()) as { message: { text: string } }).message.text).toBe("forwarding");
    const br = await send({ "accept-encoding": "br" });
    expect(br.headers.get("content-encoding")).toBeNull();
    await br.text();
  });
});

describe("forwarding: answers name no server behind the gateway", () => {
  it("strips server, via and every header that names an internal host, on success and on error", async () => {
    const answers = [
      await send({}),
      await gatewayFetch("/v1/balance", { headers: { authorization: `Bearer ${await idp.token()}` } }),
      await gatewayFetch("/v1/messages/msg_does_not_exist", {
        headers: { authorization: `Bearer ${await idp.token()}` },
      }),
    ];
    expect(answers.map((r) => r.status)).toEqual([202, 200, 404]);
    for (const res of answers) {
      const headers = Object.fromEntries(res.headers);
      for (const name of Object.keys(INTERNAL_HEADERS)) expect(headers, name).not.toHaveProperty(name);
      expect(JSON.stringify(headers)).not.toMatch(/internal|10\.0\.3\.7|envoy|Express/);
      expect(headers["content-type"]).toMatch(/json/);
      expect(headers["x-request-id"]).toBeTruthy();
      await res.text();
    }
  });
});
