import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN } from "./helpers/admin";
import { deployment } from "./helpers/deployment";
import { gatewayFetch } from "./helpers/gateway";
import { sandbox } from "./helpers/sandbox";

const deep = (d = deployment(), token: string | null = ADMIN_TOKEN) =>
  d.fetch("/healthz?deep=1", { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe("GET /healthz", () => {
  it("the shallow check is public and touches nothing", async () => {
    await sandbox.clearRequests();
    const res = await gatewayFetch("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok" });
    expect(await sandbox.requests()).toEqual([]);
  });

  it("?deep=1 needs the admin token", async () => {
    for (const token of [null, "not-the-token"]) {
      const res = await deep(deployment(), token);
      expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([401, "unauthorized"]);
    }
  });

  it("?deep=1 checks D1, KV, Zavu (with the main key) and the encryption keys, and reports each", async () => {
    await sandbox.clearRequests();
    const res = await deep();
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.status).toBe("ok");
    expect(Object.keys(body.checks)).toEqual(["d1", "kv", "zavu", "keys"]);
    for (const check of Object.values(body.checks) as any[]) {
      expect(check.ok).toBe(true);
      expect(check.latencyMs).toBeGreaterThanOrEqual(0);
    }
    const [probe] = await sandbox.requests();
    expect(probe).toMatchObject({ method: "GET", path: "/v1/balance", status: 200 });
  });

  it("Zavu unreachable: 503 degraded, the other checks still pass", async () => {
    const res = await deep(deployment({ ZAVU_API_BASE: "http://down.sandbox" }));
    expect(res.status).toBe(503);
    const body = (await res.json()) as any;
    expect(body.status).toBe("degraded");
    expect(body.checks.zavu).toMatchObject({ ok: false, error: "502 upstream_unavailable" });
    expect([body.checks.d1.ok, body.checks.kv.ok, body.checks.keys.ok]).toEqual([true, true, true]);
  });

  it("Zavu refuses the main key: reported as such, without the key", async () => {
    const wrongKey = "zv_live_revoked_main_key_123456";
    const res = await deep(deployment({ ZAVU_API_KEY: wrongKey }));
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(JSON.parse(text).checks.zavu).toMatchObject({ ok: false, error: "401 unauthorized" });
    expect(text).not.toContain(wrongKey);
  });

  it("Zavu too slow: reported as a timeout", async () => {
    await sandbox.fault({ method: "GET", path: "/v1/balance", latencyMs: 2500, count: 1 });
    const res = await deep();
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).checks.zavu).toMatchObject({ ok: false, error: "504 upstream_timeout" });
  });

  it("a malformed previous encryption key is named, never shown", async () => {
    const bad = btoa("sixteen byte key");
    const res = await deep(deployment({ KEY_ENCRYPTION_KEY_PREVIOUS: bad }));
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(JSON.parse(text).checks.keys).toMatchObject({
      ok: false,
      error: "KEY_ENCRYPTION_KEY_PREVIOUS is not base64 of 32 bytes",
    });
    expect(text).not.toContain(bad);
    expect(text).not.toContain(env.KEY_ENCRYPTION_KEY);
  });
});
