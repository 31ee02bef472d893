-- Onboarding links (issue 11): the reseller sends one to a customer, whose admin sets up its
-- identity provider in the portal at /onboard/{secret}. The console searches tenants by name.

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

-- Console search: tenants whose name starts with the query, case-insensitively.
CREATE INDEX tenants_by_name ON tenants (name COLLATE NOCASE, id);
