import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_SECRETS } from "../test-secrets";
import { collectConsole, summary } from "./collect";
import { ledger, registerSecret, scanResponse, takeHits } from "./ledger";
import { findSecrets, secretsFromBindings } from "./secrets";

const SUB_KEY = `zv_live_sub_${"a1".repeat(16)}`;

describe("secret hygiene: the scanner itself", () => {
  it("knows every secret binding, each rotation token on its own, and full sub-account keys", () => {
    const secrets = secretsFromBindings(env as unknown as Record<string, unknown>);
    const text = (value: string) => findSecrets(`... ${value} ...`, secrets);
    expect(text(env.KEY_ENCRYPTION_KEY)).toEqual(["KEY_ENCRYPTION_KEY"]);
    expect(text(env.ZAVU_API_KEY)).toEqual(["ZAVU_API_KEY"]);
    expect(text("test-admin-token-a")).toEqual(["ADMIN_TOKEN"]);
    expect(text("test-admin-token-b")).toEqual(["ADMIN_TOKEN"]);
    expect(text(SUB_KEY)).toEqual(["a sub-account key"]);
    // What the gateway shows on purpose: a key's 16-character prefix, other vars.
    expect(text(SUB_KEY.slice(0, 16))).toEqual([]);
    expect(text(env.ZAVU_API_BASE)).toEqual([]);
    // A secret binding added later is covered by its name alone.
    expect(
      findSecrets("whsec_0123456789abcdef", secretsFromBindings({ WEBHOOK_SECRET: "whsec_0123456789abcdef" })),
    ).toEqual(["WEBHOOK_SECRET"]);
  });

  it("finds a webhook signing secret anywhere but in the answer that registers its endpoint", () => {
    const secrets = secretsFromBindings({});
    const body = JSON.stringify({ webhook: { id: "whk_1", secret: `whsec_${"A".repeat(43)}=` } });
    expect(findSecrets(body, secrets)).toEqual(["a webhook signing secret"]);
    expect(findSecrets(body, secrets, "GET /admin/v1/webhooks -> 200")).toEqual(["a webhook signing secret"]);
    expect(findSecrets(body, secrets, "POST /admin/v1/webhooks -> 201")).toEqual([]);
  });

  it("finds a sender's webhook secret anywhere but in the customer's create and regenerate answers", () => {
    const secrets = secretsFromBindings({});
    const secret = `whsec_${"Ab0_-".repeat(8)}Ab0`;
    const body = JSON.stringify({ id: "snd_1", webhook: { secret } });
    const sender = "a sender's webhook secret";
    expect(findSecrets(body, secrets)).toEqual([sender]);
    expect(findSecrets(body, secrets, "POST /v1/senders -> 201")).toEqual([]);
    expect(findSecrets(body, secrets, "POST /v1/senders/snd_1/webhook/secret -> 200")).toEqual([]);
    for (const answer of [
      "GET /v1/senders -> 200",
      "GET /v1/senders/snd_1 -> 200",
      "PATCH /v1/senders/snd_1 -> 200",
      "POST /v1/senders -> 400",
      "POST /admin/v1/webhooks -> 201",
    ]) {
      expect(findSecrets(body, secrets, answer), answer).toEqual([sender]);
    }
    // The reseller's secrets (base64 with padding) are not taken for a sender's, nor the other way round.
    expect(findSecrets(`whsec_${"A".repeat(43)}=`, secrets)).toEqual(["a webhook signing secret"]);
    // Zavu's secret for a sender, registered by value, is allowed nowhere, not even in the create answer.
    const upstream = `whsec_${"Zz9".repeat(14)}Z`;
    const withUpstream = [...secrets, { name: "Zavu's webhook secret for a sender", match: upstream }];
    expect(findSecrets(upstream, withUpstream, "POST /v1/senders -> 201")).toEqual([
      "Zavu's webhook secret for a sender",
    ]);
  });

  it("finds a secret registered at run time in what it scanned before, even in an answer allowed another", async () => {
    const mark = ledger().hits.length;
    const upstream = `whsec_${"Qq7".repeat(14)}Q`;
    const customer = `whsec_${"Rr8".repeat(14)}R`;
    await scanResponse(
      new Request("https://gateway.test/v1/senders", { method: "POST" }),
      new Response(JSON.stringify({ webhook: { secret: customer }, leaked: upstream }), { status: 201 }),
    );
    expect(takeHits(mark)).toEqual([]); // the customer's secret belongs in this answer; Zavu's is not known yet
    registerSecret({ name: "Zavu's webhook secret for a sender", match: upstream });
    expect(takeHits(mark).map((h) => [h.secret, h.source])).toEqual([
      ["Zavu's webhook secret for a sender", "body of POST /v1/senders -> 201"],
    ]);
  });

  it("finds a secret in an answer's body or headers, and hands the answer on unchanged", async () => {
    const mark = ledger().hits.length;
    const bodies = ledger().bodies;
    const planted = new Response(JSON.stringify({ leaked: env.KEY_ENCRYPTION_KEY }), {
      status: 418,
      headers: { "x-debug": `Bearer ${TEST_SECRETS.ADMIN_TOKEN.split(",")[1]}`, "content-type": "application/json" },
    });
    const out = await scanResponse(new Request("https://gateway.test/v1/planted"), planted);
    const hits = takeHits(mark); // planted on purpose: keep them out of the suite's verdict
    expect(hits.map((h) => [h.secret, h.source])).toEqual([
      ["ADMIN_TOKEN", "headers of GET /v1/planted -> 418"],
      ["KEY_ENCRYPTION_KEY", "body of GET /v1/planted -> 418"],
    ]);
    expect(ledger().bodies).toBe(bodies + 1);
    expect(out.status).toBe(418);
    expect(out.headers.get("content-type")).toBe("application/json");
    expect(await out.json()).toEqual({ leaked: env.KEY_ENCRYPTION_KEY });
  });

  it("the Node side scans every console line and takes the tallies out of the output", () => {
    const s = summary();
    const before = { lines: s.consoleLines, hits: s.consoleHits.length, tallies: s.tallies.length };
    expect(collectConsole(`oops ${SUB_KEY}\n`, "stderr")).toBeUndefined();
    expect(
      collectConsole('[secret-hygiene] {"file":"x","bodies":1,"logLines":0,"unscanned":0,"hits":[]}\n', "stdout"),
    ).toBe(false);
    expect(s.consoleLines).toBe(before.lines + 1);
    expect(s.consoleHits.splice(before.hits)).toEqual([{ secret: "a sub-account key", source: "console (stderr)" }]);
    expect(s.tallies.splice(before.tallies)).toEqual([{ file: "x", bodies: 1, logLines: 0, unscanned: 0, hits: [] }]);
  });
});
