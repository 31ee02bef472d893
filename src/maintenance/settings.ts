import type { Env } from "../env";

/** The maintenance policy, from wrangler.toml vars. */
export interface MaintenanceSettings {
  /** What to do with a sub-account whose externalId names a tenant the gateway does not hold. */
  orphanPolicy: "report" | "deactivate";
  /** Rotate sub-account keys older than this; 0 = never. */
  keyRotationDays: number;
  /** D1, KV, Durable Object and Zavu calls one run may make, all jobs together. */
  maxSubrequests: number;
  /** Wall time after which a run starts no new unit of work. */
  maxRunMs: number;
  /** A tenant still provisioning after this long was abandoned by its request: repair it. */
  provisioningGraceMs: number;
}

const nonNegativeInt = (raw: string | undefined, fallback: number) => {
  const n = Number(raw);
  return raw !== undefined && raw.trim() !== "" && Number.isSafeInteger(n) && n >= 0 ? n : fallback;
};

export function maintenanceSettings(env: Env): MaintenanceSettings {
  return {
    orphanPolicy: env.ORPHAN_POLICY === "deactivate" ? "deactivate" : "report",
    keyRotationDays: nonNegativeInt(env.KEY_ROTATION_DAYS, 0),
    maxSubrequests: Math.max(10, nonNegativeInt(env.MAINTENANCE_MAX_SUBREQUESTS, 200)),
    maxRunMs: 20_000,
    provisioningGraceMs: 5 * 60_000,
  };
}
