import { config } from "../config";
import type { Env } from "../env";
import { auditStatement } from "../storage/audit";
import { TenantRepo } from "../storage/tenant-repo";
import { ZavuMainAccount } from "../upstream/zavu-client";

/** What tenant lifecycle operations work with: storage, the main account, and who is acting. */
export interface AdminDeps {
  db: D1Database;
  kv: KVNamespace;
  repo: TenantRepo;
  zavu: ZavuMainAccount;
  kek: string;
  allowHttpJwks: boolean;
  upstreamBase: string;
  upstreamTimeoutMs: number;
  actor: string;
  requestId: string;
}

/** Lifecycle dependencies for one request, acting as `actor` (an admin fingerprint, "portal:<link>", "system"). */
export function adminDeps(env: Env, requestId: string, actor: string): AdminDeps {
  const cfg = config(env);
  return {
    db: env.DB,
    kv: env.CACHE,
    repo: new TenantRepo(env.DB),
    zavu: new ZavuMainAccount(cfg.upstreamBase, env.ZAVU_API_KEY, cfg.upstreamTimeoutMs, requestId),
    kek: env.KEY_ENCRYPTION_KEY,
    allowHttpJwks: cfg.allowHttpJwks,
    upstreamBase: cfg.upstreamBase,
    upstreamTimeoutMs: cfg.upstreamTimeoutMs,
    actor,
    requestId,
  };
}

/** An audit-log statement for this actor and request; callers batch it with the change it records. */
export function audit(deps: AdminDeps, action: string, tenantId: string | null, detail?: Record<string, unknown>) {
  return auditStatement(deps.db, { actor: deps.actor, action, tenantId, requestId: deps.requestId, detail });
}
