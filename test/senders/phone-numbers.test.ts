import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/admin";
import { expectApiError } from "../helpers/gateway";
import { MAIN_KEY, sandbox, zavu } from "../helpers/sandbox";
import { senderTenant, upstreamSender } from "./helpers";

let t: Awaited<ReturnType<typeof senderTenant>>;

beforeAll(async () => {
  await sandbox.reset();
  t = await senderTenant("numbers");
});

const totalSpent = async (subAccountId: string) =>
  (await zavu(MAIN_KEY).subAccounts.retrieve(subAccountId)).subAccount.totalSpent;

describe("phone numbers: the customer's side", () => {
  it("looks numbers up through the gateway (owned, one, available)", async () => {
    const zc = await t.client();
    expect((await zc.phoneNumbers.list()).getPaginatedItems()).toEqual([]);
    const available = await zc.phoneNumbers.searchAvailable({ countryCode: "US" });
    expect(available.items.length).toBeGreaterThan(0);
    expect(available.items[0]!.phoneNumber).toMatch(/^\+1555010\d{4}$/);
    await expectApiError(zc.phoneNumbers.retrieve("pn_unknown"), 404, "not_found");
  });

  it("may not buy or release: 403 phone_numbers_managed_by_reseller, and Zavu never hears of it", async () => {
    const zc = await t.client();
    await sandbox.clearRequests();
    const err = await expectApiError(
      zc.phoneNumbers.purchase({ phoneNumber: "+15550100007" }),
      403,
      "phone_numbers_managed_by_reseller",
    );
    expect(err.message).toContain("ask your provider");
    await expectApiError(zc.phoneNumbers.release("pn_anything"), 403, "phone_numbers_managed_by_reseller");
    expect(await sandbox.requests()).toEqual([]);
  });
});

describe("phone numbers: the reseller's admin API", () => {
  it("buys a number with the tenant's key (charged to its sub-account), audited; the customer then sees it", async () => {
    const before = await totalSpent(t.subAccountId);
    const res = await admin("POST", `/tenants/${t.id}/phone-numbers`, {
      body: { phoneNumber: "+15550100001" },
      idempotencyKey: "buy-1",
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.phoneNumber).toMatchObject({ phoneNumber: "+15550100001", id: expect.any(String) });
    const numberId = res.body.phoneNumber.id as string;
    expect(await totalSpent(t.subAccountId)).toBeGreaterThan(before);
    const charged = await totalSpent(t.subAccountId);

    // The same Idempotency-Key: the first answer again, nothing bought twice.
    const again = await admin("POST", `/tenants/${t.id}/phone-numbers`, {
      body: { phoneNumber: "+15550100001" },
      idempotencyKey: "buy-1",
    });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await totalSpent(t.subAccountId)).toBe(charged);

    const listed = await admin("GET", `/tenants/${t.id}/phone-numbers`);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((n: { id: string }) => n.id)).toEqual([numberId]);
    const zc = await t.client();
    expect((await zc.phoneNumbers.list()).getPaginatedItems().map((n) => n.phoneNumber)).toEqual(["+15550100001"]);
    expect((await zc.phoneNumbers.retrieve(numberId)).phoneNumber.phoneNumber).toBe("+15550100001");

    // A sender can now use it.
    const sender = await zc.senders.create({ name: "On my number", phoneNumber: "+15550100001" });
    expect(sender.phoneNumber).toBe("+15550100001");
    await upstreamSender(sender.id);

    const audit = await admin("GET", `/audit?tenantId=${t.id}`);
    const purchase = audit.body.items.find((e: { action: string }) => e.action === "tenant.phone_number.purchase");
    expect(purchase.detail).toMatchObject({ phoneNumberId: numberId, phoneNumber: "+15550100001" });
  });

  it("refuses a malformed number, and a number not for sale, as the reseller's error", async () => {
    expect((await admin("POST", `/tenants/${t.id}/phone-numbers`, { body: { phoneNumber: "555" } })).status).toBe(400);
    const taken = await admin("POST", `/tenants/${t.id}/phone-numbers`, { body: { phoneNumber: "+15550100001" } });
    expect(taken.status, taken.text).toBeGreaterThanOrEqual(400);
    expect(taken.status).toBeLessThan(500);
    expect((await admin("GET", "/tenants/tnt_00000000000000000000000000/phone-numbers")).status).toBe(404);
  });

  it("releases a number, audited", async () => {
    const bought = await admin("POST", `/tenants/${t.id}/phone-numbers`, { body: { phoneNumber: "+15550100002" } });
    expect(bought.status, bought.text).toBe(201);
    const id = bought.body.phoneNumber.id as string;
    const res = await admin("DELETE", `/tenants/${t.id}/phone-numbers/${id}`);
    expect(res.status, res.text).toBe(204);
    const listed = await admin("GET", `/tenants/${t.id}/phone-numbers`);
    expect(listed.body.items.map((n: { id: string }) => n.id)).not.toContain(id);
    expect((await admin("DELETE", `/tenants/${t.id}/phone-numbers/${id}`)).status).toBe(404);
    const audit = await admin("GET", `/audit?tenantId=${t.id}`);
    expect(
      audit.body.items.some(
        (e: { action: string; detail: { phoneNumberId?: string } }) =>
          e.action === "tenant.phone_number.release" && e.detail.phoneNumberId === id,
      ),
    ).toBe(true);
  });
});
