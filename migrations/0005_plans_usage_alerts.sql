-- Fair sharing, usage records and signed alerts (issue 12).

-- A tenant's plan: JSON of the limits it overrides ({requestsPerSecond, sendsPerMinute, dailySends};
-- null = unlimited); a limit it does not name follows the deployment's default. NULL = all defaults.
ALTER TABLE tenants ADD COLUMN plan TEXT;
-- Zavu's totalSpent when the gateway started recording the tenant's usage (cents): 0 for a tenant the
-- gateway creates, its totalSpent for an import. NULL for tenants from before usage records: the first
-- reconciliation sets it.
ALTER TABLE tenants ADD COLUMN usage_baseline_cents INTEGER DEFAULT 0;
UPDATE tenants SET usage_baseline_cents = NULL;

-- Usage records: per tenant, UTC day and channel. Gateway isolates count in memory and hand their
-- counts to the usage shards (Durable Objects) at least once a second; each shard writes them here in
-- batches, exactly once (usage_flushes). Reconciliation against Zavu's totalSpent corrects the cost.
CREATE TABLE usage_daily (
  tenant_id        TEXT NOT NULL,
  date             TEXT NOT NULL,                   -- YYYY-MM-DD (UTC)
  channel          TEXT NOT NULL,                   -- Zavu's channel from the answer; "unknown" when not read
  sends            INTEGER NOT NULL DEFAULT 0,      -- sends Zavu accepted (2xx)
  cost_cents       INTEGER NOT NULL DEFAULT 0,      -- exact + estimated + reconciliation corrections
  estimated_cents  INTEGER NOT NULL DEFAULT 0,      -- the part of cost_cents still estimated (0 once reconciled)
  corrected_cents  INTEGER NOT NULL DEFAULT 0,      -- what reconciliation added (or removed)
  updated_at       INTEGER NOT NULL,                -- unix ms
  PRIMARY KEY (tenant_id, date, channel)
);
-- The monthly report: every tenant's rows of a month.
CREATE INDEX usage_daily_by_date ON usage_daily (date, tenant_id);

-- Sends refused, by the code the customer got (the gateway's own, or Zavu's), per usage row.
CREATE TABLE usage_refusals (
  tenant_id  TEXT NOT NULL,
  date       TEXT NOT NULL,
  channel    TEXT NOT NULL,
  code       TEXT NOT NULL,
  count      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, date, channel, code)
);

-- Batches of counts already written (a shard's retry of a batch that did land is refused here).
CREATE TABLE usage_flushes (
  id  TEXT PRIMARY KEY,                             -- "<shard>:<flush seq>:<chunk>"
  at  INTEGER NOT NULL                              -- unix ms
);

-- Each reconciliation of a tenant's recorded cost with Zavu's totalSpent, and the drift it found.
CREATE TABLE usage_reconciliations (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id        TEXT NOT NULL,
  at               INTEGER NOT NULL,                -- unix ms
  zavu_cents       INTEGER NOT NULL,                -- totalSpent minus the tenant's baseline
  counted_cents    INTEGER NOT NULL,                -- what the usage records held
  drift_cents      INTEGER NOT NULL,                -- zavu_cents - counted_cents, now added to the records
  estimated_cents  INTEGER NOT NULL                 -- the estimates this reconciliation replaced
);
CREATE INDEX usage_reconciliations_by_tenant ON usage_reconciliations (tenant_id, id);

-- Webhook endpoints the reseller registered. The whsec_ secret is sealed like a sub-account key
-- (AES-256-GCM under KEY_ENCRYPTION_KEY, associated data: the webhook id) and shown only at creation.
CREATE TABLE webhooks (
  id                 TEXT PRIMARY KEY,              -- "whk_" + time-sortable base32
  url                TEXT NOT NULL,
  events             TEXT NOT NULL,                 -- JSON array of event types
  secret_ciphertext  TEXT NOT NULL,
  created_at         INTEGER NOT NULL,              -- unix ms
  deleted_at         INTEGER                        -- set by DELETE; its pending deliveries are cancelled
);

-- Events, once each: an event that must happen once (a threshold per limit, a tenant's first
-- refusal in an hour) has an id derived from what makes it unique, so a second emission is ignored.
CREATE TABLE webhook_events (
  id          TEXT PRIMARY KEY,                     -- "evt_..."; the webhook-id header of its deliveries
  type        TEXT NOT NULL,                        -- e.g. "tenant.credit.threshold"
  tenant_id   TEXT,
  payload     TEXT NOT NULL,                        -- the JSON body delivered
  created_at  INTEGER NOT NULL                      -- unix ms
);

-- One row per event and webhook: attempts, retried with backoff for more than 24 hours.
CREATE TABLE webhook_deliveries (
  id               TEXT PRIMARY KEY,                -- "dlv_..."
  webhook_id       TEXT NOT NULL,
  event_id         TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER,                         -- unix ms; NULL once no attempt is due
  last_attempt_at  INTEGER,
  last_status      INTEGER,                         -- the receiver's HTTP status of the last attempt
  last_error       TEXT,                            -- e.g. "HTTP 500", "timeout" (never a secret)
  created_at       INTEGER NOT NULL,
  delivered_at     INTEGER,
  UNIQUE (webhook_id, event_id)
);
-- The dispatcher's query: deliveries due now.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
-- GET /admin/v1/webhooks/{id}/deliveries: newest first.
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at, id);
