-- The weekly level of every rollup tier: the cells of each daily table summed per week (Monday 00:00 UTC, the ISO week
-- PostgreSQL's date_trunc('week') gives), so that ranges of weeks read 7 times fewer rows: a 30-day question by
-- campaign, geo and platform read ~19 000 daily rows, and reads ~2 600 weekly ones plus the days at its ends.
-- Maintained from the same delta in the same transaction as the hourly and daily tables, so each equals a GROUP BY
-- over Gold as well. Same cell key (UNIQUE NULLS NOT DISTINCT) and upsert as the other tables.
CREATE TABLE IF NOT EXISTS metrics_weekly (
    week                  timestamptz NOT NULL,
    campaign_id           text,
    creative_id           text,
    geo_country           text,
    platform              text,
    impressions           bigint      NOT NULL,
    clicks                bigint      NOT NULL,
    conversions           bigint      NOT NULL,
    cost                  numeric     NOT NULL,
    revenue               numeric     NOT NULL,
    revenue_out_of_window numeric     NOT NULL,
    attribution_lag_us    bigint      NOT NULL,
    attribution_lag_count bigint      NOT NULL,
    CONSTRAINT metrics_weekly_cell UNIQUE NULLS NOT DISTINCT (week, campaign_id, creative_id, geo_country, platform)
);
CREATE INDEX IF NOT EXISTS metrics_weekly_campaign_week ON metrics_weekly (campaign_id, week);

CREATE TABLE IF NOT EXISTS metrics_weekly_campaign (
    LIKE metrics_weekly INCLUDING ALL,
    CHECK (creative_id IS NULL), CHECK (geo_country IS NULL), CHECK (platform IS NULL)
);
CREATE TABLE IF NOT EXISTS metrics_weekly_geo_platform (LIKE metrics_weekly INCLUDING ALL, CHECK (creative_id IS NULL));
