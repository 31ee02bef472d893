import type { ChangeInput } from "../control/events";
import type { Counters } from "../lib/counters";
import { CountedDb } from "./db";
import type { IdentityConfig } from "./tenants";

/** An identity a tenant gave up, whose hold shortens once the release is published. */
export interface Release {
  tenantId: string;
  identity: IdentityConfig;
}

export interface OutboxRow {
  id: number;
  events: ChangeInput[];
  releases: Release[];
}

/** Change events waiting to be published, written in the same D1 batch as the change itself. */
export class Outbox {
  private readonly db: CountedDb;

  constructor(d1: D1Database, counters: Counters) {
    this.db = new CountedDb(d1, counters);
  }

  insert(events: ChangeInput[], releases: Release[] = []): D1PreparedStatement {
    return this.db
      .prepare("INSERT INTO control_outbox (events, releases, created_at) VALUES (?, ?, ?)")
      .bind(JSON.stringify(events), releases.length ? JSON.stringify(releases) : null, Date.now());
  }

  async pending(limit = 50): Promise<OutboxRow[]> {
    const { results } = await this.db.all<{ id: number; events: string; releases: string | null }>(
      this.db.prepare("SELECT id, events, releases FROM control_outbox ORDER BY id LIMIT ?").bind(limit),
    );
    return results.map((r) => ({
      id: r.id,
      events: JSON.parse(r.events),
      releases: r.releases ? JSON.parse(r.releases) : [],
    }));
  }

  async remove(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.run(
      this.db.prepare(`DELETE FROM control_outbox WHERE id IN (${ids.map(() => "?").join(",")})`).bind(...ids),
    );
  }
}
