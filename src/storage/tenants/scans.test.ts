import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createCounters } from "../../lib/counters";
import { TenantScans } from "./scans";

const scans = new TenantScans(env.DB, createCounters());
const now = Date.now();

async function row(
  id: string,
  fields: { status?: string; sealed?: string | null; sub?: string | null; created?: number },
) {
  await env.DB.prepare(
    `INSERT INTO tenants (id, name, status, sub_account_id, key_ciphertext, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(id, id, fields.status ?? "active", fields.sub ?? null, fields.sealed ?? null, fields.created ?? now, now)
    .run();
}

beforeAll(async () => {
  await row("tnt_a", { sealed: "v2.AAAAAAAAAAA.x", sub: "sa_a" });
  await row("tnt_b", { sealed: "v2.BBBBBBBBBBB.y", sub: "sa_b" });
  await row("tnt_c", { sealed: "legacyciphertext", sub: "sa_c" });
  await row("tnt_d", { sealed: null, status: "deactivated", sub: "sa_d" });
  await row("tnt_e", { status: "provisioning", created: now - 10 * 60_000 });
  await row("tnt_f", { status: "provisioning", created: now });
});

describe("tenant scans for maintenance", () => {
  it("finds stored keys outside a KEK prefix, in keyset pages", async () => {
    const prefix = "v2.AAAAAAAAAAA.";
    expect((await scans.sealedOutside(prefix, { after: "", limit: 10 })).map((r) => r.id)).toEqual(["tnt_b", "tnt_c"]);
    expect((await scans.sealedOutside(prefix, { after: "tnt_b", limit: 10 })).map((r) => r.id)).toEqual(["tnt_c"]);
    expect(await scans.sealedByPrefix(prefix.length)).toEqual(
      new Map([
        ["legacy", 1],
        ["v2.AAAAAAAAAAA.", 1],
        ["v2.BBBBBBBBBBB.", 1],
      ]),
    );
  });

  it("replaces a ciphertext only if it is still the one that was read", async () => {
    const [stale] = await scans.batch([scans.replaceSealedStatement("tnt_b", "v2.not-what-is-stored", "new")]);
    expect(stale!.meta.changes).toBe(0);
    const [fresh] = await scans.batch([scans.replaceSealedStatement("tnt_b", "v2.BBBBBBBBBBB.y", "v2.AAAAAAAAAAA.z")]);
    expect(fresh!.meta.changes).toBe(1);
  });

  it("lists only tenants provisioning since before the cut-off", async () => {
    const stuck = await scans.provisioning({ after: "", createdBefore: now - 5 * 60_000, limit: 10 });
    expect(stuck.map((t) => t.id)).toEqual(["tnt_e"]);
  });

  it("says which tenant ids and sub-account ids some tenant holds", async () => {
    const held = await scans.held(["tnt_a", "tnt_zzz"], ["sa_c", "sa_nobody"]);
    expect([...held.tenantIds].sort()).toEqual(["tnt_a", "tnt_c"]);
    expect([...held.subAccountIds].sort()).toEqual(["sa_a", "sa_c"]);
  });

  it("dates each live key by its last key change in the audit log, else the tenant's creation", async () => {
    await env.DB.prepare(
      "INSERT INTO audit_log (at, actor, action, tenant_id) VALUES (?, 'admin:x', 'tenant.key.rotate', 'tnt_a'), (?, 'admin:x', 'tenant.update', 'tnt_a')",
    )
      .bind(now + 1000, now + 5000)
      .run();
    const ages = await scans.keyAges({ after: "", limit: 10 });
    expect(ages).toEqual([
      { id: "tnt_a", keyStoredAt: now + 1000 }, // tenant.update is not a key change
      { id: "tnt_b", keyStoredAt: now },
      { id: "tnt_c", keyStoredAt: now },
    ]);
  });
});
