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
  key_ciphertext  TEXT,                             -- base64url(iv || ciphertext); NULL when none
  key_id          TEXT,                             -- Zavu api key id of the stored key
  key_prefix      TEXT,
  created_at      INTEGER NOT NULL,                 -- unix ms
  updated_at      INTEGER NOT NULL
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
  created_at   INTEGER NOT NULL
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
