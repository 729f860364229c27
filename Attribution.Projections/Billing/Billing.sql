-- Closed billing periods (issue 22): a month's bill as it was answered when it closed, byte for byte in both
-- renderings, never recomputed.
CREATE TABLE IF NOT EXISTS billing_periods (
    period     text        PRIMARY KEY,
    closed_at  timestamptz NOT NULL,
    json_body  bytea       NOT NULL,
    csv_body   bytea       NOT NULL,
    CONSTRAINT billing_periods_period CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$')
);

-- Every event a close judged (billed or excluded), with the month of its event time and the period whose bill
-- carried it. An event of a closed month that is not here arrived (or became billable) after that month closed: it
-- is billed as an adjustment in the next open month, and recorded here when that month closes.
CREATE TABLE IF NOT EXISTS billing_settled_events (
    event_id     text NOT NULL PRIMARY KEY,
    event_period text NOT NULL,
    billed_in    text NOT NULL REFERENCES billing_periods (period)
);
CREATE INDEX IF NOT EXISTS billing_settled_events_period ON billing_settled_events (event_period);
