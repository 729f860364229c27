-- A settled event keeps the verdict its bill gave it (billed or excluded) and the price then, so that an event whose
-- verdict changes after its month closed (a click flagged by a burst that late clicks completed) is reversed in the
-- next open month: a credit of exactly what was billed, or a charge of what was excluded. Rows settled before this
-- migration have no verdict (null) and are never reversed.
ALTER TABLE billing_settled_events
    ADD COLUMN IF NOT EXISTS billed boolean,
    ADD COLUMN IF NOT EXISTS price  numeric(18,6);
