-- Delivery outcomes (issue 19): Zavu's message.delivered and message.failed events, relayed by the
-- gateway, counted per tenant, UTC day (of the event) and channel beside the sends.
ALTER TABLE usage_daily ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
