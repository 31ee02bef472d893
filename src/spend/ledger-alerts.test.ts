import { expect, it } from "vitest";
import { dueAlerts, noMarks } from "./ledger-alerts";
import { applyRefresh, newLedger, setLimit } from "./ledger-math";

const tenant = { kind: "tenant", tenantId: "tnt_a", subAccountId: "sa_a" } as const;

it("credit thresholds at 80 % and 100 %, once each per limit", () => {
  const s = newLedger("tenant");
  const marks = noMarks();
  applyRefresh(s, { remaining: 100, limit: 100, spent: 0 }, 1);
  expect(dueAlerts(s, tenant, marks, { lowCents: null })).toEqual([]);
  applyRefresh(s, { remaining: 21, limit: 100, spent: 79 }, 2);
  expect(dueAlerts(s, tenant, marks, { lowCents: null })).toEqual([]);
  applyRefresh(s, { remaining: 20, limit: 100, spent: 80 }, 3);
  expect(dueAlerts(s, tenant, marks, { lowCents: null }).map((e) => e.data.threshold)).toEqual([80]);
  expect(dueAlerts(s, tenant, marks, { lowCents: null })).toEqual([]);
  applyRefresh(s, { remaining: -5, limit: 100, spent: 105 }, 4);
  const [full] = dueAlerts(s, tenant, marks, { lowCents: null });
  expect(full).toMatchObject({ type: "tenant.credit.threshold", data: { threshold: 100, spentCents: 105 } });
  expect(full!.once).toBe("tenant.credit.threshold:tnt_a:100:100");
  setLimit(s, 1_000); // a new limit: its own thresholds
  expect(dueAlerts(s, tenant, marks, { lowCents: null })).toEqual([]);
  expect(marks).toMatchObject({ limit: 1_000, credit: [] });
});

it("team.balance.low once per fall under the threshold", () => {
  const s = newLedger("team");
  const marks = noMarks();
  const team = { kind: "team" } as const;
  applyRefresh(s, { remaining: 50_000 }, 1);
  expect(dueAlerts(s, team, marks, { lowCents: 10_000 })).toEqual([]);
  applyRefresh(s, { remaining: 9_999 }, 2);
  expect(dueAlerts(s, team, marks, { lowCents: 10_000 }).map((e) => e.once)).toEqual(["team.balance.low:1"]);
  applyRefresh(s, { remaining: 5_000 }, 3);
  expect(dueAlerts(s, team, marks, { lowCents: 10_000 })).toEqual([]);
  applyRefresh(s, { remaining: 20_000 }, 4);
  expect(dueAlerts(s, team, marks, { lowCents: 10_000 })).toEqual([]);
  applyRefresh(s, { remaining: 100 }, 5);
  expect(dueAlerts(s, team, marks, { lowCents: 10_000 }).map((e) => e.once)).toEqual(["team.balance.low:2"]);
  expect(dueAlerts(s, team, noMarks(), { lowCents: null })).toEqual([]); // no threshold configured
});
