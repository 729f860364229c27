-- Every event a fraud rule flags (issue 22), derived like Gold: an impression's rows are replaced whenever it is folded.
-- The fraud summary and event list read it; spend and revenue excluded are exact money (see FlaggedEvents.Of).
CREATE TABLE IF NOT EXISTS fraud_flagged_events (
    event_id         text          PRIMARY KEY,
    impression_id    text          NOT NULL,
    event_type       text          NOT NULL,
    event_time       timestamptz   NOT NULL,
    campaign_id      text,
    rules            text[]        NOT NULL,
    spend_excluded   numeric(18,6) NOT NULL,
    revenue_excluded numeric(18,6) NOT NULL
);

CREATE INDEX IF NOT EXISTS fraud_flagged_events_time ON fraud_flagged_events (event_time);
CREATE INDEX IF NOT EXISTS fraud_flagged_events_impression ON fraud_flagged_events (impression_id);
