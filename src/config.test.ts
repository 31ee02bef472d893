import { describe, expect, it } from "vitest";
import { config } from "./config";
import type { Env } from "./env";

const settings = (vars: Record<string, string>) => config(vars as unknown as Env).maintenance;

describe("maintenance settings from vars", () => {
  it("defaults: report orphans, no rotation, 200 calls per run", () => {
    expect(settings({})).toMatchObject({ orphanPolicy: "report", keyRotationDays: 0, maxSubrequests: 200 });
  });

  it("reads the policy, the rotation interval and the budget", () => {
    expect(
      settings({ ORPHAN_POLICY: "deactivate", KEY_ROTATION_DAYS: "90", MAINTENANCE_MAX_SUBREQUESTS: "40" }),
    ).toMatchObject({ orphanPolicy: "deactivate", keyRotationDays: 90, maxSubrequests: 40 });
  });

  it("anything unclear falls back to the safe default", () => {
    expect(
      settings({ ORPHAN_POLICY: "delete", KEY_ROTATION_DAYS: "-5", MAINTENANCE_MAX_SUBREQUESTS: "lots" }),
    ).toMatchObject({ orphanPolicy: "report", keyRotationDays: 0, maxSubrequests: 200 });
    expect(settings({ MAINTENANCE_MAX_SUBREQUESTS: "3" }).maxSubrequests).toBe(10); // enough for one unit of work
  });
});

describe("DELIVERY_FAILURE_ALERT_RATE", () => {
  const rate = (raw?: string) =>
    config((raw === undefined ? {} : { DELIVERY_FAILURE_ALERT_RATE: raw }) as unknown as Env).deliveryFailureAlertRate;

  it("a share in (0, 1]; 0.2 when unset, empty or unclear; 0 turns the alert off", () => {
    expect([rate(), rate(""), rate("0.35"), rate("1"), rate("0")]).toEqual([0.2, 0.2, 0.35, 1, null]);
    expect([rate("1.5"), rate("-0.1"), rate("lots")]).toEqual([0.2, 0.2, 0.2]);
  });
});
