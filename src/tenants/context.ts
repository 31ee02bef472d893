import { type AlertSink, alertSink } from "../alerts/emit";
import { config } from "../config";
import { controlPlane } from "../control/binding";
import type { ChangeInput } from "../control/events";
import type { Env } from "../env";
import type { Counters } from "../lib/counters";
import {
  type DeliveryQuery,
  listEventDeliveries,
  replayEventDelivery,
  resumeEventDeliveries,
} from "../relay/deliveries";
import type { EventDelivery } from "../relay/event-log";
import { ledgerFor } from "../spend/binding";
import type { LedgerSubject } from "../spend/spend-ledger";
import type { IsolateState } from "../state";
import { auditStatement } from "../storage/audit";
import type { Keyring } from "../storage/key-vault";
import { TenantRepo } from "../storage/tenants";
import { ZavuMainAccount } from "../upstream/zavu-client";

/**
 * What the tenant service (tenants/) works with: storage, the main account, the control plane, and who
 * is acting. Built per request or run by whoever calls the service: the admin API and the console (an
 * admin), the portal (`portal:<link>`), maintenance (`system:maintenance`).
 */
export interface TenantContext {
  db: D1Database;
  kv: KVNamespace;
  repo: TenantRepo;
  zavu: ZavuMainAccount;
  /** Seals new keys under KEY_ENCRYPTION_KEY; opens what it or the previous key sealed. */
  kek: Keyring;
  allowHttpJwks: boolean;
  upstreamBase: string;
  upstreamTimeoutMs: number;
  actor: string;
  requestId: string;
  counters: Counters;
  /**
   * Tells every isolate (through the control plane) to drop what it caches about these tenants and
   * issuers; this isolate re-syncs on its next request. Resolves with the plane's time of the change.
   */
  publish(events: ChangeInput[]): Promise<{ epoch: number; at: number }>;
  /** A budget's ledger (Durable Object). */
  ledger(subject: LedgerSubject): ReturnType<typeof ledgerFor>;
  /** The reseller's webhooks (tenant.status.changed, tenant.provisioning.incomplete, ...). */
  alerts: AlertSink;
  /** Tenants' event relays (Zavu's events for their senders): their delivery logs, replays, and resuming a reactivated tenant's. */
  events: {
    resume(tenantId: string): Promise<void>;
    list: (tenantId: string, opts: DeliveryQuery) => ReturnType<typeof listEventDeliveries>;
    replay(tenantId: string, deliveryId: string): Promise<EventDelivery>;
  };
}

/** The tenant service's context for one request, acting as `actor` (an admin fingerprint, "portal:<link>", "system"). */
export function tenantContext(env: Env, state: IsolateState, requestId: string, actor: string): TenantContext {
  const cfg = config(env);
  return {
    db: env.DB,
    kv: env.CACHE,
    repo: new TenantRepo(env.DB, state.counters, cfg.defaultPlan),
    zavu: new ZavuMainAccount(cfg.upstreamBase, env.ZAVU_API_KEY, cfg.upstreamTimeoutMs, state.counters, requestId),
    kek: cfg.keyring,
    allowHttpJwks: cfg.allowHttpJwks,
    upstreamBase: cfg.upstreamBase,
    upstreamTimeoutMs: cfg.upstreamTimeoutMs,
    actor,
    requestId,
    counters: state.counters,
    async publish(events) {
      const result = await controlPlane(env).publish(events);
      state.control.invalidate();
      return result;
    },
    ledger: (subject) => ledgerFor(env, subject),
    alerts: alertSink(env, state.counters),
    events: {
      resume: (tenantId) => resumeEventDeliveries(env, tenantId),
      list: (tenantId, opts) => listEventDeliveries(env, tenantId, opts),
      replay: (tenantId, deliveryId) => replayEventDelivery(env, tenantId, deliveryId),
    },
  };
}

/** An audit-log statement for this actor and request; callers batch it with the change it records. */
export function audit(deps: TenantContext, action: string, tenantId: string | null, detail?: Record<string, unknown>) {
  return auditStatement(deps.db, { actor: deps.actor, action, tenantId, requestId: deps.requestId, detail });
}
