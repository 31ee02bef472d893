-- A deactivated tenant gives its identity back (issue 17): tenants deactivated before this release
-- free theirs now. They hold no key, so a token still routed to one by a cache meets a 403, never
-- another tenant's sub-account.
DELETE FROM tenant_identities WHERE tenant_id IN (SELECT id FROM tenants WHERE status = 'deactivated');

-- Webhooks may carry a name ("Billing system"), checked like tenant and link names.
ALTER TABLE webhooks ADD COLUMN name TEXT;
