import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { admin, tenantBody } from "../helpers/admin";
import { deployment } from "../helpers/deployment";
import { gatewayClient } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";

const main = zavu(MAIN_KEY);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Structured maintenance lines written while `fn` runs (src/lib/log.ts). */
async function maintenanceLines(fn: () => Promise<unknown>) {
  const lines: any[] = [];
  const capture = (text: unknown) => {
    if (typeof text === "string" && text.includes('"kind":"maintenance"')) lines.push(JSON.parse(text));
  };
  const out = vi.spyOn(console, "log").mockImplementation(capture);
  const err = vi.spyOn(console, "error").mockImplementation(capture);
  try {
    await fn();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines;
}

const jobOf = (line: any, name: string) => line.jobs.find((j: { job: string }) => j.job === name);
const status = async (d = deployment()) => (await d.admin("GET", "/maintenance")).body;
const jobStatus = async (name: string, d = deployment()) =>
  (await status(d)).jobs.find((j: { name: string }) => j.name === name);
const tenantStatus = async (id: string) =>
  (await env.DB.prepare("SELECT status FROM tenants WHERE id = ?").bind(id).first<{ status: string }>())?.status;
const fakeTenantId = () =>
  `tnt_${Array.from(crypto.getRandomValues(new Uint8Array(26)), (b) => "0123456789abcdefghjkmnpqrstvwxyz"[b % 32]).join("")}`;

async function onboard(label: string) {
  const idp = await TestIdp.create(`https://${label}-${crypto.randomUUID()}.example`, "ES256");
  const res = await admin("POST", "/tenants", { body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }) });
  expect(res.status, res.text).toBe(201);
  return { ...res.body.tenant, idp } as { id: string; subAccountId: string; keyPrefix: string; idp: TestIdp };
}

/** A tenant whose provisioning request gave up: Zavu was unreachable for the create and the lookup. */
async function stuckTenant(label: string) {
  const idp = await TestIdp.create(`https://${label}-${crypto.randomUUID()}.example`, "ES256");
  await sandbox.fault({ method: "POST", path: "/v1/sub-accounts", status: 503, count: 1 });
  await sandbox.fault({ method: "GET", path: "/v1/sub-accounts", status: 503, count: 1 });
  const res = await admin("POST", "/tenants", { body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }) });
  expect([res.status, res.body.code]).toEqual([503, "provisioning_incomplete"]);
  return { id: res.body.details.tenantId as string, idp };
}

beforeEach(async () => {
  await sandbox.reset();
  await env.DB.prepare("DELETE FROM maintenance_jobs").run();
  await env.DB.prepare("DELETE FROM orphan_sub_accounts").run();
});
afterEach(() => sandbox.clearFaults());

describe("the cron trigger", () => {
  it("runs every job through the Worker's own scheduled handler and records each in GET /admin/v1/maintenance", async () => {
    // The loopback binding's scheduled() (in workerd, not yet in @cloudflare/workers-types' Fetcher).
    const self = exports.default as unknown as { scheduled(o: { cron: string }): Promise<unknown> };
    const lines = await maintenanceLines(() => self.scheduled({ cron: "*/5 * * * *" }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ kind: "maintenance", trigger: "cron" });
    expect(lines[0].jobs.map((j: { job: string; outcome: string }) => [j.job, j.outcome])).toEqual([
      ["publish-outbox", "ran"],
      ["deliver-webhooks", "ran"],
      ["finish-provisioning", "ran"],
      ["reseal-keys", "ran"],
      ["reconcile-orphans", "ran"],
      ["rotate-keys", "disabled"], // KEY_ROTATION_DAYS = "0"
      ["refresh-balances", "ran"],
      ["reconcile-usage", "ran"],
    ]);
    const { jobs } = await status();
    expect(jobs.map((j: { name: string; passes: number; enabled: boolean }) => [j.name, j.passes, j.enabled])).toEqual([
      ["publish-outbox", 1, true],
      ["deliver-webhooks", 1, true],
      ["finish-provisioning", 1, true],
      ["reseal-keys", 1, true],
      ["reconcile-orphans", 1, true],
      ["rotate-keys", 0, false],
      ["refresh-balances", 1, true],
      ["reconcile-usage", 1, true],
    ]);
  });
});

describe("finish half-provisioned tenants", () => {
  it("leaves a young one to its request, finishes it after 5 minutes, and it then works end to end", async () => {
    const stuck = await stuckTenant("stuck");
    const cron = deployment();
    await cron.scheduled(Date.now());
    expect(await tenantStatus(stuck.id)).toBe("provisioning");
    expect((await status()).provisioning.stuck).toEqual([]); // not stuck yet: its request may still be finishing it

    const later = Date.now() + 6 * MINUTE;
    expect((await cron.admin("GET", "/maintenance")).body.provisioning.stuck).toEqual([]);
    const [line] = await maintenanceLines(() => cron.scheduled(later));
    expect(jobOf(line, "finish-provisioning")).toMatchObject({ outcome: "ran", counts: { finished: 1 } });
    expect(await tenantStatus(stuck.id)).toBe("active");

    const { items } = (await admin("GET", `/audit?tenantId=${stuck.id}`)).body;
    expect(items[0]).toMatchObject({ action: "tenant.provision.repaired", actor: "system:maintenance" });
    const { message } = await gatewayClient(await stuck.idp.token()).messages.send({ to: "+15551234567" });
    expect(message.status).toBe("queued");
  });

  it("reports one it cannot finish yet, and finishes it once Zavu answers", async () => {
    const stuck = await stuckTenant("unfinishable");
    // Its request gave up 10 minutes ago.
    await env.DB.prepare("UPDATE tenants SET created_at = created_at - ? WHERE id = ?")
      .bind(10 * MINUTE, stuck.id)
      .run();
    await sandbox.fault({ method: "GET", path: "/v1/sub-accounts", status: 503 }); // Zavu keeps failing
    const [line] = await maintenanceLines(() => deployment().scheduled());
    expect(jobOf(line, "finish-provisioning").counts).toMatchObject({ finished: 0, incomplete: 1 });
    const report = await status();
    expect(report.provisioning.stuck.map((s: { tenantId: string }) => s.tenantId)).toContain(stuck.id);
    const reported = async () =>
      (await admin("GET", `/audit?tenantId=${stuck.id}`)).body.items.filter(
        (e: { action: string }) => e.action === "maintenance.provisioning.incomplete",
      );
    expect(await reported()).toMatchObject([{ actor: "system:maintenance", detail: { step: "find-sub-account" } }]);
    await deployment().scheduled(Date.now() + MINUTE); // still failing: reported once, not every run
    expect(await reported()).toHaveLength(1);

    await sandbox.clearFaults();
    await deployment().scheduled(Date.now() + 2 * MINUTE);
    expect(await tenantStatus(stuck.id)).toBe("active");
    expect((await status()).provisioning.stuck.map((s: { tenantId: string }) => s.tenantId)).not.toContain(stuck.id);
  });

  it("stays within MAINTENANCE_MAX_SUBREQUESTS per run and resumes where the last run stopped", async () => {
    const stuck = [];
    for (let i = 0; i < 4; i++) stuck.push(await stuckTenant(`budget-${i}`));
    const tight = deployment({ MAINTENANCE_MAX_SUBREQUESTS: "30" });
    const later = Date.now() + 6 * MINUTE;
    const progress: number[] = [];
    for (let run = 0; run < 10 && progress.reduce((a, b) => a + b, 0) < stuck.length; run++) {
      await sandbox.clearRequests();
      const [line] = await maintenanceLines(() => tight.scheduled(later + run * MINUTE));
      expect(line.subrequests).toBeLessThanOrEqual(30);
      expect((await sandbox.requests()).length).toBeLessThanOrEqual(30); // what Zavu saw agrees
      const job = jobOf(line, "finish-provisioning");
      progress.push(job.counts.finished ?? 0);
      if (job.counts.finished < stuck.length && !job.passComplete) {
        expect((await jobStatus("finish-provisioning", tight)).passInProgress).toBe(true);
      }
    }
    expect(progress.length).toBeGreaterThan(1); // it took several runs
    expect(progress.every((n) => n >= 1)).toBe(true); // and every run made progress
    for (const t of stuck) expect(await tenantStatus(t.id)).toBe("active");
  });
});

describe("reconcile orphan sub-accounts", () => {
  it("reports a sub-account created after the gateway gave up on it, once, and leaves held ones alone", async () => {
    // The create times out (1.5 s in the tests), the lookup finds nothing, the tenant is dropped;
    // then the create completes upstream: an orphan whose externalId is a tenant id nobody holds.
    await sandbox.fault({ method: "POST", path: "/v1/sub-accounts", latencyMs: 2500, count: 1 });
    const idp = await TestIdp.create(`https://orphan-${crypto.randomUUID()}.example`, "ES256");
    const res = await admin("POST", "/tenants", { body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }) });
    expect([res.status, res.body.code]).toEqual([502, "upstream_error"]);
    let orphan: { id: string; externalId?: string | null } | undefined;
    for (let i = 0; i < 40 && !orphan; i++) {
      await new Promise((r) => setTimeout(r, 100));
      for await (const s of main.subAccounts.list()) orphan = s;
    }
    expect(orphan?.externalId).toMatch(/^tnt_/);
    expect(await tenantStatus(orphan!.externalId!)).toBeUndefined();

    const held = await onboard("held"); // externalId = its own tenant id: not an orphan
    const [line] = await maintenanceLines(() => deployment().scheduled());
    expect(jobOf(line, "reconcile-orphans").counts).toMatchObject({ scanned: 2, orphans: 1, reported: 1 });
    const report = await status();
    expect(report.orphans.policy).toBe("report");
    expect(report.orphans.items).toMatchObject([
      { subAccountId: orphan!.id, externalId: orphan!.externalId, deactivatedAt: null },
    ]);
    const audit = (await admin("GET", "/audit?limit=20")).body.items.filter((e: { action: string }) =>
      e.action.startsWith("maintenance.orphan"),
    );
    expect(audit).toMatchObject([
      { action: "maintenance.orphan.found", actor: "system:maintenance", detail: { subAccountId: orphan!.id } },
    ]);
    // Reported, not touched: its key still works.
    expect((await main.subAccounts.retrieve(orphan!.id)).subAccount.status).toBe("active");
    expect((await main.subAccounts.retrieve(held.subAccountId)).subAccount.status).toBe("active");

    // The next pass (an hour on) sees it again but reports it only once.
    const [again] = await maintenanceLines(() => deployment().scheduled(Date.now() + 61 * MINUTE));
    expect(jobOf(again, "reconcile-orphans").counts).toMatchObject({ orphans: 1, reported: 0 });
    expect(
      (await admin("GET", "/audit?limit=20")).body.items.filter((e: { action: string }) =>
        e.action.startsWith("maintenance.orphan"),
      ),
    ).toHaveLength(1);
  });

  it("with ORPHAN_POLICY=deactivate, deactivates orphans upstream once, never an imported sub-account", async () => {
    const orphanIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { subAccount } = await main.subAccounts.create({ name: `orphan ${i}`, externalId: fakeTenantId() });
      orphanIds.push(subAccount.id);
    }
    // An imported sub-account whose externalId happens to look like a tenant id: held by its sub-account id.
    const { subAccount: adopted } = await main.subAccounts.create({ name: "adopted", externalId: fakeTenantId() });
    const idp = await TestIdp.create(`https://import-${crypto.randomUUID()}.example`, "ES256");
    const imported = await admin("POST", "/tenants/import", {
      body: { subAccountId: adopted.id, apiKey: adopted.apiKey, identity: { issuer: idp.issuer, jwks: idp.jwks() } },
    });
    expect(imported.status, imported.text).toBe(201);

    const strict = deployment({ ORPHAN_POLICY: "deactivate" });
    const [line] = await maintenanceLines(() => strict.scheduled());
    expect(jobOf(line, "reconcile-orphans").counts).toMatchObject({ orphans: 3, deactivated: 3, failed: 0 });
    for (const id of orphanIds) {
      expect((await main.subAccounts.retrieve(id)).subAccount.status).toBe("inactive");
      expect((await main.subAccounts.apiKeys.list(id)).items.every((k) => k.revokedAt)).toBe(true);
    }
    expect((await main.subAccounts.retrieve(adopted.id)).subAccount.status).toBe("active");
    const { message } = await gatewayClient(await idp.token()).messages.send({ to: "+15551234567" });
    expect(message.status).toBe("queued");
    const report = await status(strict);
    expect(report.orphans.items.filter((o: { deactivatedAt: string | null }) => o.deactivatedAt)).toHaveLength(3);

    await sandbox.clearRequests();
    const [again] = await maintenanceLines(() => strict.scheduled(Date.now() + 61 * MINUTE));
    expect(jobOf(again, "reconcile-orphans").counts).toMatchObject({ orphans: 3, deactivated: 0 });
    expect((await sandbox.requests()).filter((r) => r.method === "DELETE")).toEqual([]);
  });

  it("walks many pages across runs when the budget is small, and finds every orphan exactly once", async () => {
    for (let i = 0; i < 120; i++) await main.subAccounts.create({ name: `o${i}`, externalId: fakeTenantId() });
    const tight = deployment({ MAINTENANCE_MAX_SUBREQUESTS: "20" });
    let found = 0;
    let runs = 0;
    for (let done = false; !done && runs < 20; runs++) {
      const [line] = await maintenanceLines(() => tight.scheduled(Date.now() + runs * MINUTE));
      expect(line.subrequests).toBeLessThanOrEqual(20);
      const job = jobOf(line, "reconcile-orphans");
      found += job.counts.reported ?? 0;
      done = job.passComplete;
    }
    expect(runs).toBeGreaterThanOrEqual(2); // resumed at least once
    expect(found).toBe(120);
    expect((await status()).orphans.items).toHaveLength(100); // the report shows the newest 100
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM orphan_sub_accounts").first<{ n: number }>();
    expect(rows?.n).toBe(120);
  });
});

describe("scheduled key rotation", () => {
  it("off by default; with KEY_ROTATION_DAYS, rotates keys older than that and the tenant keeps sending", async () => {
    const old = await onboard("old-key");
    const fresh = await onboard("fresh-key");
    // `old` was onboarded 100 days ago: its key was stored then.
    await env.DB.batch([
      env.DB.prepare("UPDATE tenants SET created_at = created_at - ? WHERE id = ?").bind(100 * DAY, old.id),
      env.DB.prepare("UPDATE audit_log SET at = at - ? WHERE tenant_id = ?").bind(100 * DAY, old.id),
    ]);
    await deployment().scheduled();
    expect((await admin("GET", `/tenants/${old.id}`)).body.tenant.keyPrefix).toBe(old.keyPrefix);

    const policy = deployment({ KEY_ROTATION_DAYS: "90" });
    const [line] = await maintenanceLines(() => policy.scheduled());
    expect(jobOf(line, "rotate-keys")).toMatchObject({ outcome: "ran", counts: { rotated: 1, failed: 0 } });
    const after = (await admin("GET", `/tenants/${old.id}`)).body.tenant;
    expect(after.keyPrefix).not.toBe(old.keyPrefix);
    expect((await admin("GET", `/tenants/${fresh.id}`)).body.tenant.keyPrefix).toBe(fresh.keyPrefix);
    const keys = (await main.subAccounts.apiKeys.list(old.subAccountId)).items;
    expect(keys.filter((k) => !k.revokedAt).map((k) => k.keyPrefix)).toEqual([after.keyPrefix]);
    const rotation = (await admin("GET", `/audit?tenantId=${old.id}`)).body.items[0];
    expect(rotation).toMatchObject({ action: "tenant.key.rotate", actor: "system:maintenance" });

    await sandbox.clearRequests();
    const { message } = await gatewayClient(await old.idp.token()).messages.send({ to: "+15551234567" });
    expect(message.status).toBe("queued");
    const [send] = (await sandbox.requests()).filter((r) => r.path === "/v1/messages");
    expect(send?.keyId).toBe(keys.find((k) => !k.revokedAt)!.id);

    // The next pass (6 hours on) finds nothing old enough.
    const [again] = await maintenanceLines(() => policy.scheduled(Date.now() + 7 * 60 * MINUTE));
    expect(jobOf(again, "rotate-keys").counts).toMatchObject({ rotated: 0, failed: 0 });
    expect(jobOf(again, "rotate-keys").counts.checked).toBeGreaterThanOrEqual(2);
  });
});

describe("two runs at once", () => {
  it("a job another run holds is skipped (busy), and the admin re-seal says so with 409", async () => {
    await env.DB.prepare(
      "INSERT INTO maintenance_jobs (job, lease_until, lease_owner) VALUES ('reseal-keys', ?, 'other-run')",
    )
      .bind(Date.now() + MINUTE)
      .run();
    const [line] = await maintenanceLines(() => deployment().scheduled());
    expect(jobOf(line, "reseal-keys").outcome).toBe("busy");
    const res = await admin("POST", "/maintenance/reseal", { body: {} });
    expect([res.status, res.body.code]).toEqual([409, "maintenance_busy"]);
    expect((await jobStatus("reseal-keys")).running).toBe(true);
  });

  it("a lease left by a run that died expires", async () => {
    await env.DB.prepare(
      "INSERT INTO maintenance_jobs (job, lease_until, lease_owner) VALUES ('reseal-keys', ?, 'dead-run')",
    )
      .bind(Date.now() - 1)
      .run();
    const res = await admin("POST", "/maintenance/reseal", { body: {} });
    expect(res.status, res.text).toBe(200);
    expect((await jobStatus("reseal-keys")).running).toBe(false);
  });
});
