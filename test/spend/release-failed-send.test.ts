import { env } from "cloudflare:workers";
import { beforeAll, expect, it } from "vitest";
import { ledgerFor } from "../../src/spend/binding";
import { releaseFailedSend } from "../../src/spend/release";
import type { LedgerSubject } from "../../src/spend/spend-ledger";
import { gatewayClient } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

beforeAll(async () => {
  await sandbox.reset();
  // Zavu answers without a cost: the gateway counts each send at its estimate until a refresh.
  await sandbox.setTeam({ costAtAccept: false, prices: { sms: 2 } });
});

it("a failed send Zavu charged nothing for gives its estimate back to the tenant's ledger; an older send changes nothing", async () => {
  const idp = await TestIdp.create(`https://release-${crypto.randomUUID()}.example`, "ES256");
  // 40 cents: a lease would be worth less than four sends of 5 (the default estimate): the strict zone.
  const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 40 });
  const subject: LedgerSubject = { kind: "tenant", tenantId: t.id, subAccountId: t.subAccountId };
  const ledger = ledgerFor(env, subject);
  const tenant = { id: t.id, subAccountId: t.subAccountId, creditLimit: 40 };

  const { message } = await gatewayClient(await idp.token()).messages.send({ to: "+15551234567" });
  const before = await ledger.snapshot(subject);
  expect(before.estimate).toBe(5);
  expect(before).toMatchObject({ counted: 5, available: 35 }); // the send, at its estimate
  const sentAt = Date.parse(message.createdAt);
  expect(sentAt).toBeGreaterThanOrEqual(before.refreshedAt);

  await releaseFailedSend(env, tenant, sentAt, message.id);
  const after = await ledger.snapshot(subject);
  expect(after).toMatchObject({ counted: before.counted - 5, available: before.available! + 5 });
  await releaseFailedSend(env, tenant, sentAt, message.id); // the same message again: nothing
  expect(await ledger.snapshot(subject)).toEqual(after);

  // A second send, then a refresh: a send created before it is in Zavu's figures, and is not credited.
  await gatewayClient(await idp.token()).messages.send({ to: "+15551234567" });
  const refreshed = await ledger.snapshot(subject, true);
  const older = await ledger.snapshot(subject);
  await releaseFailedSend(env, tenant, refreshed.refreshedAt - 1);
  expect(await ledger.snapshot(subject)).toEqual(older);
});

it("a tenant without a credit limit has no ledger of its own: only the team's is credited", async () => {
  const team: LedgerSubject = { kind: "team" };
  const idp = await TestIdp.create(`https://release-${crypto.randomUUID()}.example`, "ES256");
  const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() });
  const { message } = await gatewayClient(await idp.token()).messages.send({ to: "+15551234567" });
  const before = await ledgerFor(env, team).snapshot(team);
  await releaseFailedSend(
    env,
    { id: t.id, subAccountId: t.subAccountId, creditLimit: null },
    Date.parse(message.createdAt),
  );
  const after = await ledgerFor(env, team).snapshot(team);
  expect(after.available).toBe(before.available! + before.estimate);
  const own: LedgerSubject = { kind: "tenant", tenantId: t.id, subAccountId: t.subAccountId };
  expect((await ledgerFor(env, own).snapshot(own)).refreshedAt).toBe(0); // never touched
});
