-- The gateway's whole schema. migrations/ build it step by step; test/schema.test.ts checks both give one schema.

-- One row per reseller customer. The Zavu sub-account key is stored only as AES-256-GCM
-- ciphertext whose associated data is the tenant id, so a ciphertext copied to another row
-- does not decrypt.
CREATE TABLE tenants (
  id              TEXT PRIMARY KEY,                 -- "tnt_" + 26 random base32 chars
  name            TEXT NOT NULL,
  external_id     TEXT UNIQUE,                      -- the reseller's own reference
  status          TEXT NOT NULL CHECK (status IN ('provisioning', 'active', 'inactive', 'deactivated')),
  credit_limit    INTEGER,                          -- cents; NULL = no cap
  metadata        TEXT,                             -- JSON object or NULL
  sub_account_id  TEXT UNIQUE,                      -- Zavu sub-account id, NULL until created
  key_ciphertext  TEXT,                             -- v2.<kek id>.<base64url(iv || ciphertext)>; NULL when none
  key_id          TEXT,                             -- Zavu api key id of the stored key
  key_prefix      TEXT,
  created_at      INTEGER NOT NULL,                 -- unix ms
  updated_at      INTEGER NOT NULL,
  lock_owner      TEXT,                             -- who holds the provisioning lease (a request id)
  lock_until      INTEGER NOT NULL DEFAULT 0,       -- unix ms; the lease ends then even if never released
  plan            TEXT,                             -- JSON of the plan limits it overrides; NULL = the defaults
  usage_baseline_cents INTEGER DEFAULT 0            -- totalSpent when usage records began (NULL: set by reconciliation)
);
-- Admin listing: keyset pagination by id, optionally filtered by status.
CREATE INDEX tenants_by_status ON tenants (status, id);
-- Console search: tenants whose name starts with the query, case-insensitively.
CREATE INDEX tenants_by_name ON tenants (name COLLATE NOCASE, id);

-- How a tenant's identity provider signs the JWTs its apps present.
-- Several tenants may share one issuer when each names a claim value (multi-org IdPs);
-- all identities of one issuer then use the same claim name (enforced by the admin API).
CREATE TABLE tenant_identities (
  tenant_id    TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  issuer       TEXT NOT NULL,
  claim_name   TEXT NOT NULL DEFAULT '',            -- '' = no claim match
  claim_value  TEXT NOT NULL DEFAULT '',
  audience     TEXT,                                -- JSON array of strings or NULL
  jwks_uri     TEXT,                                -- https URL, or NULL when jwks is inline
  jwks         TEXT,                                -- inline JWKS JSON (public keys only)
  algorithms   TEXT,                                -- JSON array allowlist or NULL (asymmetric defaults)
  updated_at   INTEGER NOT NULL
);
-- The hot path's only lookup: token issuer (+ claim value) -> tenant.
CREATE UNIQUE INDEX tenant_identities_by_issuer ON tenant_identities (issuer, claim_value);

-- Who did what to which tenant. Never holds secrets.
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,                     -- unix ms
  actor       TEXT NOT NULL,                        -- e.g. "admin:1" (which admin token), "system"
  action      TEXT NOT NULL,                        -- e.g. "tenant.create", "tenant.provision.failed"
  tenant_id   TEXT,
  request_id  TEXT,
  detail      TEXT                                  -- JSON, secrets never included
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);

-- Idempotency-Key replays for admin POSTs.
CREATE TABLE idempotency_keys (
  key          TEXT PRIMARY KEY,                    -- route + ":" + the caller's key
  fingerprint  TEXT NOT NULL,                       -- SHA-256 of the request body
  status       INTEGER,                             -- NULL while the first request runs
  response     TEXT,                                -- JSON body of the first result
  tenant_id    TEXT,
  created_at   INTEGER NOT NULL,
  locked_until INTEGER NOT NULL DEFAULT 0          -- unix ms; the first request holds the key until then
);

-- All identities of one issuer use one claim name ('' = none). Checked in the database, so two
-- registrations racing each other cannot store "issuer I, no claim" beside "issuer I, claim x".
CREATE TRIGGER tenant_identities_one_claim_name_on_insert
BEFORE INSERT ON tenant_identities
WHEN EXISTS (SELECT 1 FROM tenant_identities WHERE issuer = NEW.issuer AND claim_name != NEW.claim_name)
BEGIN
  SELECT RAISE(ABORT, 'identity_conflict: this issuer is registered with another claim name');
END;

CREATE TRIGGER tenant_identities_one_claim_name_on_update
BEFORE UPDATE OF issuer, claim_name ON tenant_identities
WHEN EXISTS (
  SELECT 1 FROM tenant_identities
  WHERE issuer = NEW.issuer AND claim_name != NEW.claim_name AND tenant_id != NEW.tenant_id
)
BEGIN
  SELECT RAISE(ABORT, 'identity_conflict: this issuer is registered with another claim name');
END;

-- An identity (issuer + claim value) a tenant gave up. Another tenant may take it only once
-- hold_until has passed: by then no gateway isolate can still route its tokens to the old tenant.
CREATE TABLE identity_releases (
  issuer       TEXT NOT NULL,
  claim_value  TEXT NOT NULL,
  tenant_id    TEXT NOT NULL,                       -- the tenant that released it
  released_at  INTEGER NOT NULL,                    -- unix ms
  hold_until   INTEGER NOT NULL,                    -- unix ms; set long at release, shortened once published
  PRIMARY KEY (issuer, claim_value, tenant_id)
);

CREATE TRIGGER tenant_identities_quarantine_on_insert
BEFORE INSERT ON tenant_identities
WHEN EXISTS (
  SELECT 1 FROM identity_releases r
  WHERE r.issuer = NEW.issuer AND r.claim_value = NEW.claim_value AND r.tenant_id != NEW.tenant_id
    AND r.hold_until > unixepoch('subsec') * 1000
)
BEGIN
  SELECT RAISE(ABORT, 'identity_quarantined: this identity was released moments ago');
END;

CREATE TRIGGER tenant_identities_quarantine_on_update
BEFORE UPDATE OF issuer, claim_value ON tenant_identities
WHEN EXISTS (
  SELECT 1 FROM identity_releases r
  WHERE r.issuer = NEW.issuer AND r.claim_value = NEW.claim_value AND r.tenant_id != NEW.tenant_id
    AND r.hold_until > unixepoch('subsec') * 1000
)
BEGIN
  SELECT RAISE(ABORT, 'identity_quarantined: this identity was released moments ago');
END;

-- Changes committed to D1 that the control plane has not logged yet (a transactional outbox): each
-- admin change inserts its events here in the same batch, then publishes and deletes them. A publish
-- that fails is retried by the next admin call and by the scheduled maintenance.
CREATE TABLE control_outbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  events      TEXT NOT NULL,                        -- JSON array of ChangeInput
  releases    TEXT,                                 -- JSON array of identities released (to shorten their hold)
  created_at  INTEGER NOT NULL                      -- unix ms
);

-- Scheduled maintenance (src/maintenance): where each job stands, so every run resumes the last.
-- One row per maintenance job.
CREATE TABLE maintenance_jobs (
  job                 TEXT PRIMARY KEY,              -- e.g. "reseal-keys"
  cursor              TEXT,                          -- where the pass in progress resumes; NULL = none in progress
  memo                TEXT,                          -- JSON the job keeps between runs (e.g. the KEK id of its pass)
  pass_started_at     INTEGER,                       -- unix ms
  pass_counts         TEXT,                          -- JSON counts summed over the pass in progress
  passes              INTEGER NOT NULL DEFAULT 0,    -- completed passes
  last_pass_ended_at  INTEGER,
  last_pass_counts    TEXT,                          -- JSON counts of the last completed pass
  last_run_at         INTEGER,
  last_run_counts     TEXT,                          -- JSON counts of the last run
  last_error          TEXT,                          -- error code of the last run that failed; NULL after a clean one
  lease_until         INTEGER,                       -- a run holds the job until then (unix ms)
  lease_owner         TEXT                           -- the run holding it
);

-- Sub-accounts upstream whose externalId is a tenant id the gateway does not hold (a create that
-- completed after the gateway gave up on it). Reported in the audit log when first seen.
CREATE TABLE orphan_sub_accounts (
  sub_account_id  TEXT PRIMARY KEY,
  external_id     TEXT NOT NULL,
  name            TEXT,
  first_seen_at   INTEGER NOT NULL,                  -- unix ms
  last_seen_at    INTEGER NOT NULL,
  deactivated_at  INTEGER                            -- set when ORPHAN_POLICY=deactivate deactivated it upstream
);

-- Onboarding links: the reseller sends one; the customer sets up its identity provider in the portal.
-- One row per link. The URL's secret is never stored, only its SHA-256.
-- Status moves pending -> completed | revoked, only through conditional updates (see
-- src/storage/onboarding-links.ts); "expired" is a pending link past expires_at.
CREATE TABLE onboarding_links (
  id              TEXT PRIMARY KEY,                 -- "lnk_" + time-sortable base32
  secret_hash     TEXT NOT NULL UNIQUE,             -- base64url SHA-256 of the URL's secret
  status          TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'revoked')),
  purpose         TEXT NOT NULL CHECK (purpose IN ('create', 'identity')),
  tenant_id       TEXT,                             -- identity: the tenant it reconfigures; create: the tenant it made
  name            TEXT,                             -- create: prefilled tenant fields, set by the reseller
  external_id     TEXT,
  credit_limit    INTEGER,
  metadata        TEXT,
  created_by      TEXT NOT NULL,                    -- the admin actor (never the token)
  created_at      INTEGER NOT NULL,                 -- unix ms
  expires_at      INTEGER NOT NULL,
  completed_at    INTEGER,
  revoked_at      INTEGER,
  claimed_until   INTEGER NOT NULL DEFAULT 0,       -- an activation in progress holds the link until then
  failures        INTEGER NOT NULL DEFAULT 0,       -- failed attempts in the current window
  failure_window  INTEGER NOT NULL DEFAULT 0        -- start of that window (unix ms)
);
-- Console and admin listing: by status, newest first (keyset on id).
CREATE INDEX onboarding_links_by_status ON onboarding_links (status, id);

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
  delivered        INTEGER NOT NULL DEFAULT 0,      -- message.delivered events Zavu sent (dated by the event)
  failed           INTEGER NOT NULL DEFAULT 0,      -- message.failed events Zavu sent (dated by the event)
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
  deleted_at         INTEGER,                       -- set by DELETE; its pending deliveries are cancelled
  name               TEXT                           -- what the reseller calls it (visible characters, at most 200)
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

-- Senders a tenant made through the gateway (two-way messaging). Zavu posts each sender's events to
-- the gateway's relay (/relay/zavu/{relay_id}) signed with Zavu's secret; the gateway checks them and
-- delivers them to the customer's own URL signed with the gateway's secret. Both secrets are sealed
-- like sub-account keys, each bound to its own associated data.
CREATE TABLE tenant_senders (
  relay_id                    TEXT PRIMARY KEY,     -- 32 base64url characters (192 random bits): the relay path
  tenant_id                   TEXT NOT NULL,
  sender_id                   TEXT UNIQUE,          -- Zavu's sender id (NULL while Zavu is creating it)
  webhook_url                 TEXT,                 -- the customer's URL (NULL: no webhook)
  webhook_events              TEXT NOT NULL,        -- JSON array: the events the customer asked for
  webhook_active              INTEGER NOT NULL DEFAULT 1,
  signature_version           TEXT NOT NULL DEFAULT 'v2' CHECK (signature_version IN ('v1', 'v1+v2', 'v2')),
  secret_ciphertext           TEXT,                 -- the customer's signing secret (associated data: "sender:" + relay_id)
  upstream_secret_ciphertext  TEXT,                 -- Zavu's signing secret (associated data: "zavu-sender:" + relay_id)
  created_at                  INTEGER NOT NULL,     -- unix ms
  updated_at                  INTEGER NOT NULL,
  deleted_at                  INTEGER               -- the sender was deleted: its relay answers 410
);
CREATE INDEX tenant_senders_by_tenant ON tenant_senders (tenant_id, created_at);

-- A reseller is a team: admin API keys with a role (only their SHA-256 is kept), and the staff Cloudflare
-- Access lets in, with their roles.
CREATE TABLE admin_api_keys (
  id            TEXT PRIMARY KEY,                     -- gk_ + sortable id
  name          TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  prefix        TEXT NOT NULL,                        -- the secret's first 12 characters, shown in listings
  secret_hash   TEXT NOT NULL UNIQUE,                 -- SHA-256 of the secret (base64url); the secret is never stored
  created_at    INTEGER NOT NULL,                     -- unix ms
  created_by    TEXT NOT NULL,                        -- the actor that created it
  expires_at    INTEGER,                              -- unix ms; NULL = never
  last_used_at  INTEGER                               -- unix ms, updated at most once a minute
);
-- Cloudflare Access: a person's role, by the email in their assertion.
CREATE TABLE staff (
  email       TEXT PRIMARY KEY,                       -- lower case
  role        TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  updated_at  INTEGER NOT NULL,
  updated_by  TEXT NOT NULL
);
