import { config, type MaintenanceSettings } from "../config";
import type { Env } from "../env";
import { SHARED_ISSUER_HOSTS, sharedIssuerProblem } from "../identity/shared-issuers";
import type { Counters } from "../lib/counters";
import type { IsolateState } from "../state";
import { kekId, sealedPrefix } from "../storage/key-vault";
import { type JobState, MaintenanceRepo } from "../storage/maintenance-repo";
import { TenantScans } from "../storage/tenants";
import type { MaintenanceJob } from "./job";
import { JOBS } from "./jobs";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A job as GET /admin/v1/maintenance shows it. */
export function presentJob(
  job: MaintenanceJob,
  state: JobState | undefined,
  settings: MaintenanceSettings,
  now: number,
) {
  return {
    name: job.name,
    description: job.description,
    enabled: !job.enabled || job.enabled(settings),
    running: state?.leaseUntil != null && state.leaseUntil > now,
    passInProgress: state?.cursor != null,
    passStartedAt: iso(state?.passStartedAt ?? null),
    passCounts: state?.passCounts ?? {},
    passes: state?.passes ?? 0,
    lastPassEndedAt: iso(state?.lastPassEndedAt ?? null),
    lastPassCounts: state?.lastPassCounts ?? null,
    lastRunAt: iso(state?.lastRunAt ?? null),
    lastRunCounts: state?.lastRunCounts ?? null,
    lastError: state?.lastError ?? null,
  };
}

/** Where stored keys and webhook secrets stand against the configured KEKs: what a re-seal still has to move. */
export async function sealedKeyCounts(env: Env, counters: Counters) {
  const ring = config(env).keyring;
  const currentPrefix = await sealedPrefix(ring.current);
  const previousPrefixes = await Promise.all(ring.previous.map(sealedPrefix));
  const byPrefix = await new TenantScans(env.DB, counters).sealedByPrefix(currentPrefix.length);
  let current = 0;
  let previous = 0;
  let other = 0;
  for (const [prefix, n] of byPrefix) {
    if (prefix === currentPrefix) current += n;
    else if (previousPrefixes.includes(prefix)) previous += n;
    else other += n; // the format before KEK ids, or a key no longer configured
  }
  return {
    currentKekId: await kekId(ring.current),
    previousKekIds: await Promise.all(ring.previous.map(kekId)),
    sealedUnderCurrent: current,
    sealedUnderPrevious: previous,
    sealedOtherwise: other,
    remaining: previous + other,
  };
}

/** Pages read to list open identities: 20 × 500 identities on shared hosts, then it says it stopped. */
const IDENTITY_PAGES = 20;

/**
 * Identities registered before shared issuers needed an audience (and, for some, a pinning claim) that
 * break that rule: each accepts tokens made for other parties' apps until an operator fixes it with
 * PUT /admin/v1/tenants/{id}/identity. The first 100, read past every identity that is fine.
 */
async function openIdentities(scans: TenantScans) {
  const found = [];
  let after = "";
  for (let page = 0; page < IDENTITY_PAGES; page++) {
    const rows = await scans.identitiesAt(SHARED_ISSUER_HOSTS, { after, limit: 500 });
    for (const row of rows) {
      const problem = sharedIssuerProblem(row);
      if (!problem) continue;
      if (found.length === 100) return { openIdentities: found, complete: false };
      const { tenantId, name, status, issuer, claim } = row;
      found.push({ tenantId, name, status, issuer, claim, problem: problem.message });
    }
    if (rows.length < 500) return { openIdentities: found, complete: true };
    after = rows[rows.length - 1]!.tenantId;
  }
  return { openIdentities: found, complete: false };
}

/** GET /admin/v1/maintenance: every job's progress, the key re-seal position, stuck tenants, orphans. */
export async function maintenanceStatus(env: Env, state: IsolateState) {
  const now = state.clock.now();
  const settings = config(env).maintenance;
  const repo = new MaintenanceRepo(env.DB, state.counters);
  const scans = new TenantScans(env.DB, state.counters);
  const [states, keys, stuck, orphans, identityRule] = await Promise.all([
    repo.states(),
    sealedKeyCounts(env, state.counters),
    scans.provisioning({ after: "", createdBefore: now - settings.provisioningGraceMs, limit: 50 }),
    repo.listOrphans(100),
    openIdentities(scans),
  ]);
  return {
    jobs: JOBS.map((job) =>
      presentJob(
        job,
        states.find((s) => s.job === job.name),
        settings,
        now,
      ),
    ),
    keys,
    provisioning: { stuck: stuck.map((t) => ({ tenantId: t.id, createdAt: iso(t.createdAt)! })) },
    // Registered before shared issuers had to name an audience: each accepts tokens made for other
    // parties' apps until an operator sets its audience (PUT /admin/v1/tenants/{id}/identity).
    identityRule,
    orphans: {
      policy: settings.orphanPolicy,
      items: orphans.map((o) => ({
        subAccountId: o.subAccountId,
        externalId: o.externalId,
        name: o.name,
        firstSeenAt: iso(o.firstSeenAt)!,
        lastSeenAt: iso(o.lastSeenAt)!,
        deactivatedAt: iso(o.deactivatedAt),
      })),
    },
    settings: {
      keyRotationDays: settings.keyRotationDays,
      maxSubrequestsPerRun: settings.maxSubrequests,
    },
  };
}
