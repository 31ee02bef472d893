-- One truth across isolates: constraints that hold where concurrent writers meet (D1 runs each
-- statement and each batch as one transaction), and leases for work that must not run twice.

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

-- Provisioning and repair of one tenant run one at a time: a lease taken with a conditional update.
ALTER TABLE tenants ADD COLUMN lock_owner TEXT;
ALTER TABLE tenants ADD COLUMN lock_until INTEGER NOT NULL DEFAULT 0;

-- An Idempotency-Key's first request holds it until locked_until; a retry that finds it held gets 409.
ALTER TABLE idempotency_keys ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;

-- Changes committed to D1 that the control plane has not logged yet (a transactional outbox): each
-- admin change inserts its events here in the same batch, then publishes and deletes them. A publish
-- that fails is retried by the next admin call and by the scheduled maintenance.
CREATE TABLE control_outbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  events      TEXT NOT NULL,                        -- JSON array of ChangeInput
  releases    TEXT,                                 -- JSON array of identities released (to shorten their hold)
  created_at  INTEGER NOT NULL                      -- unix ms
);
