-- A reseller is a team (issue 20): admin API keys with a role, and the staff Cloudflare Access lets in.
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
