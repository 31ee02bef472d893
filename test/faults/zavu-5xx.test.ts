import { beforeAll, expect, it } from "vitest";
import { gatewayClient } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";
import { insertTenant } from "../helpers/tenants";

beforeAll(async () => {
  await sandbox.reset();
  await sandbox.setTeam({ prices: { sms: 1 } });
});

/**
 * Issue 22's measurement: Zavu answering 30% of sends with 500 (its own error body: the send did not
 * happen) must not eat the tenant's credit limit. Sequential sends until the first refusal: the tenant
 * must get to spend its whole limit.
 */
it("a 500 with Zavu's error body releases the send's estimate at once: the whole credit limit stays usable", async () => {
  const idp = await TestIdp.create(`https://zavu-5xx-${crypto.randomUUID()}.example`, "ES256");
  const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 30 });
  await sandbox.fault({ method: "POST", path: "/v1/messages", status: 500, rate: 0.3 });
  const client = gatewayClient(await idp.token());
  const statuses: number[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      const status = await client.messages.send({ to: "+15551234567" }).then(
        () => 202,
        (e: { status?: number }) => e.status ?? 0,
      );
      statuses.push(status);
      if (status === 402) break;
    }
  } finally {
    await sandbox.clearFaults();
  }
  const { subAccount } = await zavu(MAIN_KEY).subAccounts.retrieve(t.subAccountId);
  const accepted = statuses.filter((s) => s === 202).length;
  expect(statuses.filter((s) => s !== 202 && s !== 500 && s !== 402)).toEqual([]);
  expect(subAccount.totalSpent).toBe(accepted);
  expect(accepted, JSON.stringify(statuses)).toBe(30);
});

it("a 502 or 504 (a proxy in between gave up) leaves the outcome unknown: the estimate stands until a refresh; a 500 or 503 from Zavu gives it back", async () => {
  const { env } = await import("cloudflare:workers");
  const { ledgerFor } = await import("../../src/spend/binding");
  const idp = await TestIdp.create(`https://zavu-5xx-${crypto.randomUUID()}.example`, "ES256");
  const t = await insertTenant({ issuer: idp.issuer, jwks: idp.jwks() }, { creditLimit: 30 });
  const subject = { kind: "tenant" as const, tenantId: t.id, subAccountId: t.subAccountId };
  const client = gatewayClient(await idp.token());
  await client.messages.send({ to: "+15551234567" }); // the ledger's first figures, and a known cost
  const counted = async () => (await ledgerFor(env, subject).snapshot(subject)).counted;
  const base = await counted();
  for (const [status, held] of [
    [500, false],
    [503, false],
    [502, true],
    [504, true],
  ] as const) {
    const before = await counted();
    await sandbox.fault({ method: "POST", path: "/v1/messages", status, count: 1 });
    const answered = await client.messages.send({ to: "+15551234567" }).then(
      () => 202,
      (e: { status?: number }) => e.status ?? 0,
    );
    expect(answered).toBe(status);
    expect((await counted()) - before, `${status}`).toBe(
      held ? (await ledgerFor(env, subject).snapshot(subject)).estimate : 0,
    );
  }
  expect(await counted()).toBeGreaterThan(base);
});
