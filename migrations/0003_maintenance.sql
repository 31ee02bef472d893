-- Scheduled maintenance (src/maintenance): where each job stands, so every run resumes the last,
-- and the orphan sub-accounts it has found.

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
