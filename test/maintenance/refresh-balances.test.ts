import { env } from "cloudflare:workers";
import { beforeEach, expect, it } from "vitest";
import { admin, tenantBody } from "../helpers/admin";
import { deployment } from "../helpers/deployment";
import { gatewayClient } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";

async function onboard(extra: Record<string, unknown> = {}) {
  const idp = await TestIdp.create(`https://refresh-${crypto.randomUUID()}.example`, "ES256");
  const res = await admin("POST", "/tenants", { body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }, extra) });
  expect(res.status, res.text).toBe(201);
  return { ...res.body.tenant, idp } as { id: string; subAccountId: string; idp: TestIdp };
}

beforeEach(async () => {
  await sandbox.reset();
  await env.DB.prepare("DELETE FROM maintenance_jobs").run();
});

it("the cron refreshes every live tenant's spend from Zavu, for ledgers and listings, and audits a notable drift", async () => {
  const limited = await onboard({ creditLimit: 1_000 });
  const unlimited = await onboard();
  for (const t of [limited, unlimited]) await gatewayClient(await t.idp.token()).messages.send({ to: "+15551234567" });
  // Spent behind the gateway's back (another channel, Zavu's dashboard): the gateway's counts drift.
  await sandbox.setTotalSpent(limited.subAccountId, 250);
  await sandbox.setTotalSpent(unlimited.subAccountId, 40);

  await deployment().scheduled();

  const job = (await admin("GET", "/maintenance")).body.jobs.find(
    (j: { name: string }) => j.name === "refresh-balances",
  );
  expect(job.lastPassCounts).toMatchObject({ tenants: 2, failed: 0 });
  expect(job.lastPassCounts.maxDriftCents).toBeGreaterThanOrEqual(240);
  const listed = (await admin("GET", "/tenants?limit=100")).body.items;
  expect(Object.fromEntries(listed.map((t: { id: string; totalSpent: number }) => [t.id, t.totalSpent]))).toEqual({
    [limited.id]: 250,
    [unlimited.id]: 40,
  });
  // The limited tenant's ledger now counts from Zavu's figure (less what isolates hold in leases).
  const { ledger, totalSpent } = (await admin("GET", `/tenants/${limited.id}/balance`)).body;
  expect(totalSpent).toBe(250);
  expect(ledger.available).toBeLessThanOrEqual(750);
  expect(ledger.available).toBeGreaterThan(0);
  const audit = (await admin("GET", `/audit?tenantId=${limited.id}&limit=5`)).body.items;
  expect(audit[0]).toMatchObject({ action: "maintenance.balance.drift", detail: { driftCents: expect.any(Number) } });
  expect(audit[0].detail.driftCents).toBeLessThan(0); // the gateway had counted less than Zavu
});
