import { DurableObject } from "cloudflare:workers";
import type { ChangeEvent, ChangeInput, SyncAnswer } from "./events";

/** Events kept for isolates that fall behind; an isolate further behind drops its whole cache instead. */
const KEEP_EVENTS = 5_000;
const KEEP_MS = 15 * 60_000;

/**
 * The control plane: one strongly consistent, append-only log of security-relevant changes
 * (suspension, reactivation, deactivation, identity changes, key rotation, limits). Admin calls
 * append after committing to D1; every gateway isolate reads what it has not seen (`sync`) before
 * trusting its caches (see CONSISTENCY_BOUND_MS). One instance per deployment ("global").
 */
export class ControlPlane extends DurableObject {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS events (
      epoch INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL,
      tenant_id TEXT, issuers TEXT NOT NULL)`);
  }

  /** Appends events; returns the epoch and time of the last one. */
  async publish(events: ChangeInput[]): Promise<{ epoch: number; at: number }> {
    const at = Date.now();
    for (const e of events) {
      this.sql.exec(
        "INSERT INTO events (at, kind, tenant_id, issuers) VALUES (?, ?, ?, ?)",
        at,
        e.kind,
        e.tenantId,
        JSON.stringify(e.issuers),
      );
    }
    this.sql.exec(
      "DELETE FROM events WHERE epoch <= (SELECT MAX(epoch) FROM events) - ? OR at < ?",
      KEEP_EVENTS,
      at - KEEP_MS,
    );
    return { epoch: this.latest(), at };
  }

  /** What an isolate that has seen everything up to `since` must apply. */
  async sync(since: number): Promise<SyncAnswer> {
    const epoch = this.latest();
    if (since === epoch) return { epoch, events: [] };
    if (since === 0) return { epoch, events: null }; // a new isolate: nothing cached to drop
    const oldest = this.sql.exec<{ e: number | null }>("SELECT MIN(epoch) AS e FROM events").one().e;
    // Behind what the log keeps, or ahead of it (a fresh isolate, or a reset plane): start over.
    if (since > epoch || oldest === null || since < oldest - 1) return { epoch, events: null };
    const rows = this.sql
      .exec<{ epoch: number; at: number; kind: string; tenant_id: string | null; issuers: string }>(
        "SELECT epoch, at, kind, tenant_id, issuers FROM events WHERE epoch > ? ORDER BY epoch",
        since,
      )
      .toArray();
    const events: ChangeEvent[] = rows.map((r) => ({
      epoch: r.epoch,
      at: r.at,
      kind: r.kind,
      tenantId: r.tenant_id,
      issuers: JSON.parse(r.issuers) as string[],
    }));
    return { epoch, events };
  }

  private latest(): number {
    const row = this.sql.exec<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").toArray()[0];
    return row?.seq ?? 0;
  }
}
