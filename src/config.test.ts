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
