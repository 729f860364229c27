-- dim_campaigns, SCD type 2 (design 000 §3.4): one row per version of a campaign, valid during [start_ts, end_ts);
-- the current version ends at the 9999-12-31 high watermark. Writes go through CampaignScd2 in Attribution.Domain
-- (close at exactly the new start: no gap); the constraints make overlaps and second current versions impossible
-- whatever writes the table.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE SEQUENCE IF NOT EXISTS dim_campaigns_key_seq;
CREATE TABLE IF NOT EXISTS dim_campaigns (
    campaign_key  bigint PRIMARY KEY,
    campaign_id   text           NOT NULL,
    name          text           NOT NULL,
    budget_amount numeric(18, 6) NOT NULL,
    budget_type   text           NOT NULL,
    status        text           NOT NULL,
    start_ts      timestamptz    NOT NULL,
    end_ts        timestamptz    NOT NULL,
    is_current    boolean        NOT NULL,
    CONSTRAINT dim_campaigns_status CHECK (status IN ('ACTIVE', 'PAUSED')),
    CONSTRAINT dim_campaigns_budget_not_negative CHECK (budget_amount >= 0),
    CONSTRAINT dim_campaigns_valid_for_some_instant CHECK (start_ts < end_ts),
    CONSTRAINT dim_campaigns_current_is_open CHECK (is_current = (end_ts = timestamptz '9999-12-31 00:00:00+00')),
    CONSTRAINT dim_campaigns_no_overlap EXCLUDE USING gist (campaign_id WITH =, tstzrange(start_ts, end_ts) WITH &&)
);
CREATE UNIQUE INDEX IF NOT EXISTS dim_campaigns_one_current ON dim_campaigns (campaign_id) WHERE is_current;
-- The time-travel join: campaign_id = f.campaign_id AND f.impression_time >= start_ts AND f.impression_time < end_ts.
CREATE INDEX IF NOT EXISTS dim_campaigns_campaign_start ON dim_campaigns (campaign_id, start_ts);

-- The batch feed (design 000 §3.4 "Batch Update"): changes wait here until the scheduled SCD2 merge applies them
-- all in one transaction. Attributes left null keep their current value.
CREATE TABLE IF NOT EXISTS dim_campaigns_staging (
    staging_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id   text           NOT NULL,
    effective_at  timestamptz    NOT NULL,
    name          text,
    budget_amount numeric(18, 6),
    budget_type   text,
    status        text,
    staged_at     timestamptz    NOT NULL DEFAULT now()
);

-- Staged changes the merge could not apply, with the reason (design 000 §3.2.1: the audit path keeps them traceable).
CREATE TABLE IF NOT EXISTS dim_campaigns_rejections (
    staging_id    bigint,
    campaign_id   text,
    effective_at  timestamptz,
    name          text,
    budget_amount numeric(18, 6),
    budget_type   text,
    status        text,
    reason        text           NOT NULL,
    rejected_at   timestamptz    NOT NULL DEFAULT now()
);
