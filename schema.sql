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
  updated_at      INTEGER NOT NULL
);
-- Admin listing: keyset pagination by id, optionally filtered by status.
CREATE INDEX tenants_by_status ON tenants (status, id);

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
