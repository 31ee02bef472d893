-- Two-way messaging (issue 19): the senders a tenant made through the gateway. Zavu posts each
-- sender's events to the gateway's relay (/relay/zavu/{relay_id}), signed with Zavu's secret; the
-- gateway checks them and delivers them to the customer's own URL, signed with the gateway's secret.
CREATE TABLE tenant_senders (
  relay_id                    TEXT PRIMARY KEY,     -- 32 base64url characters (192 random bits): the relay path
  tenant_id                   TEXT NOT NULL,
  sender_id                   TEXT UNIQUE,          -- Zavu's sender id (NULL while Zavu is creating it)
  webhook_url                 TEXT,                 -- the customer's URL (NULL: no webhook)
  webhook_events              TEXT NOT NULL,        -- JSON array: the events the customer asked for
  webhook_active              INTEGER NOT NULL DEFAULT 1,
  signature_version           TEXT NOT NULL DEFAULT 'v2' CHECK (signature_version IN ('v1', 'v1+v2', 'v2')),
  secret_ciphertext           TEXT,                 -- the customer's signing secret, sealed (associated data: "sender:" + relay_id)
  upstream_secret_ciphertext  TEXT,                 -- Zavu's signing secret, sealed (associated data: "zavu-sender:" + relay_id)
  created_at                  INTEGER NOT NULL,     -- unix ms
  updated_at                  INTEGER NOT NULL,
  deleted_at                  INTEGER               -- the sender was deleted: its relay answers 410
);
CREATE INDEX tenant_senders_by_tenant ON tenant_senders (tenant_id, created_at);
