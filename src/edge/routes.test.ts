import { describe, expect, it, vi } from "vitest";
import { compileRoutes, DEFAULT_ROUTES, matchRoute } from "./routes";

const routes = compileRoutes([]);
const match = (method: string, path: string) => matchRoute(routes, method, path)?.template ?? null;

describe("customer routes: the allowlist", () => {
  it("matches every default route, with its parameters, and says which calls spend", () => {
    expect(match("POST", "/v1/messages")).toBe("/v1/messages");
    expect(match("GET", "/v1/messages/msg_123")).toBe("/v1/messages/:id");
    expect(match("GET", "/v1/messages/msg_123/attachments")).toBe("/v1/messages/:id/attachments");
    expect(match("POST", "/v1/messages/msg_1/reactions")).toBe("/v1/messages/:id/reactions");
    expect(match("GET", "/v1/balance")).toBe("/v1/balance");
    expect(routes.filter((r) => r.spending).map((r) => `${r.method} ${r.template}`)).toEqual([
      "POST /v1/messages",
      "POST /v1/messages/:id/reactions",
      "POST /v1/messages/:id/typing",
    ]);
    expect(routes.find((r) => r.template === "/v1/balance")?.kind).toBe("balance");
    expect(routes).toHaveLength(DEFAULT_ROUTES.length);
  });

  it("hands senders to the gateway's service, proxies number lookups, and refuses number purchases", () => {
    const of = (method: string, path: string) => {
      const r = matchRoute(routes, method, path);
      return r && { kind: r.kind, byGateway: r.byGateway, sender: r.sender, spending: r.spending };
    };
    expect(of("POST", "/v1/senders")).toEqual({ kind: "senders", byGateway: true, sender: "create", spending: false });
    expect(of("GET", "/v1/senders")?.sender).toBe("list");
    expect(of("GET", "/v1/senders/snd_1")?.sender).toBe("retrieve");
    expect(of("PATCH", "/v1/senders/snd_1")?.sender).toBe("update");
    expect(of("DELETE", "/v1/senders/snd_1")?.sender).toBe("delete");
    expect(of("POST", "/v1/senders/snd_1/webhook/secret")?.sender).toBe("regenerateSecret");
    for (const path of ["/v1/phone-numbers", "/v1/phone-numbers/available", "/v1/phone-numbers/pn_1"]) {
      expect(of("GET", path)).toEqual({ kind: "messaging", byGateway: false, sender: undefined, spending: false });
    }
    expect(of("POST", "/v1/phone-numbers")).toMatchObject({ kind: "reseller-only", byGateway: true, spending: false });
    expect(of("DELETE", "/v1/phone-numbers/pn_1")).toMatchObject({ kind: "reseller-only", byGateway: true });
    // A reseller's extra entry cannot turn them into plain proxied routes: the gateway's come first.
    const extended = compileRoutes(["POST /v1/senders", "POST /v1/phone-numbers"]);
    expect(matchRoute(extended, "POST", "/v1/senders")?.byGateway).toBe(true);
    expect(matchRoute(extended, "POST", "/v1/phone-numbers")?.kind).toBe("reseller-only");
  });

  it("refuses other methods, unknown paths, and paths that normalise to something else", () => {
    for (const [method, path] of [
      ["DELETE", "/v1/messages/msg_1"],
      ["PUT", "/v1/balance"],
      ["GET", "/v1/sub-accounts"],
      ["GET", "/v1/messages/msg_1/../../sub-accounts"],
      ["GET", "/v1/messages/.."],
      ["GET", "/v1/messages/."],
      ["GET", "/v1/messages/%2e%2e"],
      ["GET", "/v1/messages/a%2Fb"],
      ["GET", "/v1/messages/a\\b"],
      ["GET", "/v1//messages"],
      ["GET", "/v1/messages/"],
      ["GET", "/v1/messages/msg_1/attachments/extra"],
      ["GET", `/v1/messages/${"x".repeat(129)}`],
      ["GET", "/v1/Balance"],
    ]) {
      expect(match(method!, path!), `${method} ${path}`).toBeNull();
    }
  });

  it("adds the reseller's extra routes, but never /v1/sub-accounts and never a malformed entry", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const extended = compileRoutes([
      "GET /v1/contacts/:id",
      "POST /v1/sub-accounts",
      "GET /v1/sub-accounts/:id/api-keys",
      "FETCH /v1/x",
      "GET v1/no-slash",
      "nonsense",
    ]);
    expect(extended.map((r) => `${r.method} ${r.template}`).slice(DEFAULT_ROUTES.length)).toEqual([
      "GET /v1/contacts/:id",
    ]);
    expect(matchRoute(extended, "GET", "/v1/contacts/c_1")?.template).toBe("/v1/contacts/:id");
    expect(error).toHaveBeenCalledTimes(5);
    error.mockRestore();
  });
});
