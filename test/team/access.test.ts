import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN } from "../helpers/admin";
import { deployment } from "../helpers/deployment";
import { publishJwks, TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";

/**
 * Cloudflare Access in front of the gateway, with the test IdP standing in for the team domain: it
 * publishes the team's keys at https://idp.test/cdn-cgi/access/certs and signs assertions as Access does.
 */
const TEAM = "idp.test";
const AUD = "3f1a9c0e5b7d2a4c6e8f0a1b3c5d7e9f3f1a9c0e5b7d2a4c6e8f0a1b3c5d7e9f";
let access: TestIdp;
let gw: ReturnType<typeof deployment>;

const assertion = (email: string | null, claims: Record<string, unknown> = {}, opts = {}) =>
  access.token({ aud: [AUD], ...(email ? { email } : { common_name: "svc.access" }), ...claims }, opts);

const asPerson = async (path: string, token: string, init: RequestInit = {}) => {
  const res = await gw.fetch(path, { ...init, headers: { "cf-access-jwt-assertion": token, ...init.headers } });
  const text = await res.text();
  return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : null, text };
};

beforeAll(async () => {
  await sandbox.reset();
  access = await TestIdp.create(`https://${TEAM}`, "RS256");
  await publishJwks("/cdn-cgi/access/certs", access.jwks());
  gw = deployment({ ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_DEFAULT_ROLE: "" });
  expect((await gw.admin("PUT", "/staff/ana@reseller.example", { role: "viewer" })).status).toBe(200);
});

describe("Cloudflare Access assertions", () => {
  it("valid: the person gets the staff table's role, and the audit log names them", async () => {
    const token = await assertion("Ana@Reseller.example");
    expect((await asPerson("/admin/v1/tenants", token)).status).toBe(200);
    const refused = await asPerson("/admin/v1/api-keys", token, {
      method: "POST",
      headers: { origin: "https://gateway.test", "content-type": "application/json" },
      body: JSON.stringify({ name: "x", role: "viewer" }),
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("forbidden");
    expect((await asPerson("/healthz?deep=1", token)).status).not.toBe(401);
    expect((await asPerson("/console/f/overview", token)).status).toBe(200);
  });

  it("an address only Unicode case folding would match (the Kelvin sign for k) is not a staff member's", async () => {
    expect((await gw.admin("PUT", "/staff/kate@reseller.example", { role: "admin" })).status).toBe(200);
    const lookalike = await asPerson("/admin/v1/tenants", await assertion("\u212Aate@reseller.example"));
    expect(lookalike.status).toBe(401);
    expect((await asPerson("/admin/v1/tenants", await assertion("KATE@reseller.example"))).status).toBe(200);
    expect((await gw.admin("PUT", "/staff/\u212Aate@reseller.example", { role: "admin" })).status).toBe(400);
    expect((await gw.admin("DELETE", "/staff/kate@reseller.example")).status).toBe(200);
  });

  it("refused: wrong aud, wrong issuer, expired, not yet valid, unknown kid, another algorithm, no assertion", async () => {
    const other = await TestIdp.create(`https://${TEAM}`, "RS256", access.kid); // same kid, another key
    const es = await TestIdp.create(`https://${TEAM}`, "ES256");
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string | null, RegExp][] = [
      ["wrong aud", await assertion("ana@reseller.example", { aud: ["another-app"] }), /aud claim/],
      [
        "wrong issuer",
        await assertion("ana@reseller.example", { iss: "https://evil.cloudflareaccess.com" }),
        /iss claim/,
      ],
      ["expired", await assertion("ana@reseller.example", { exp: now - 120 }), /expired/],
      ["not yet valid", await assertion("ana@reseller.example", { nbf: now + 600 }), /nbf claim/],
      ["unknown kid", await assertion("ana@reseller.example", {}, { header: { kid: "rotated-away" } }), /no key/],
      ["another key", await other.token({ aud: [AUD], email: "ana@reseller.example" }), /signature/],
      ["ES256", await es.token({ aud: [AUD], email: "ana@reseller.example" }), /RS256|no key/],
      ["service token", await assertion(null), /names no person/],
    ];
    for (const [name, token, message] of cases) {
      const res = await asPerson("/admin/v1/tenants", token!);
      expect(res.status, name).toBe(401);
      expect(res.body.code, name).toBe("unauthorized");
      expect(res.body.message, name).toMatch(message);
    }
    const none = await gw.fetch("/admin/v1/tenants");
    expect(none.status).toBe(401);
  });

  it("someone Access lets in who is not staff: 403, unless ACCESS_DEFAULT_ROLE gives them one", async () => {
    const token = await assertion("bob@reseller.example");
    const res = await asPerson("/admin/v1/tenants", token);
    expect(res.status).toBe(403);
    expect(res.body.message).toContain("bob@reseller.example");
    const open = deployment({ ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD, ACCESS_DEFAULT_ROLE: "viewer" });
    const seen = await open.fetch("/admin/v1/tenants", { headers: { "cf-access-jwt-assertion": token } });
    expect(seen.status).toBe(200);
    const off = deployment({ ACCESS_TEAM_DOMAIN: "", ACCESS_AUD: "" }); // Access off: the header means nothing
    expect((await off.fetch("/admin/v1/tenants", { headers: { "cf-access-jwt-assertion": token } })).status).toBe(401);
  });

  it("a staff role change takes effect (and is audited with both actors)", async () => {
    const token = await assertion("carla@reseller.example");
    const post = () =>
      asPerson("/admin/v1/staff/dan@reseller.example", token, {
        method: "PUT",
        headers: { origin: "https://gateway.test", "content-type": "application/json" },
        body: JSON.stringify({ role: "operator" }),
      });
    expect((await gw.admin("PUT", "/staff/carla@reseller.example", { role: "operator" })).status).toBe(200);
    expect((await post()).status).toBe(403);
    expect((await gw.admin("PUT", "/staff/carla@reseller.example", { role: "admin" })).status).toBe(200);
    expect((await post()).status).toBe(200);
    expect((await gw.admin("GET", "/staff/dan@reseller.example")).body.staff).toMatchObject({
      role: "operator",
      updatedBy: "staff:carla@reseller.example",
    });
    const audit = (await gw.admin("GET", "/audit?limit=5")).body.items;
    expect(audit[0]).toMatchObject({ actor: "staff:carla@reseller.example", action: "staff.put" });
    expect(audit[0].detail).toEqual({ email: "dan@reseller.example", role: "operator", previousRole: null });
    expect((await gw.admin("DELETE", "/staff/carla@reseller.example")).status).toBe(200);
    expect((await post()).status).toBe(403);
    const list = (await gw.admin("GET", "/staff")).body.items.map((s: { email: string }) => s.email);
    expect(list).toEqual(["ana@reseller.example", "dan@reseller.example"]);
  });

  it("a Bearer key or token still works beside Access, and wins over an assertion", async () => {
    const res = await gw.fetch("/admin/v1/tenants", {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "cf-access-jwt-assertion": "not-a-jwt" },
    });
    expect(res.status).toBe(200);
  });
});
