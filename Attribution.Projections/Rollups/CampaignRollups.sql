-- The campaign tier of the rollups: the same cells as metrics_hourly and metrics_daily summed over creative, geo and
-- platform (those columns are always NULL here, so the cell key and the upsert are the same as the full tiers').
-- Campaign-level questions, the most common ones, read ~100 times fewer rows from it. Maintained from the same delta
-- in the same transaction, so it always equals a GROUP BY over Gold as well.
CREATE TABLE IF NOT EXISTS metrics_hourly_campaign (
    hour                  timestamptz NOT NULL,
    campaign_id           text,
    creative_id           text CHECK (creative_id IS NULL),
    geo_country           text CHECK (geo_country IS NULL),
    platform              text CHECK (platform IS NULL),
    impressions           bigint      NOT NULL,
    clicks                bigint      NOT NULL,
    conversions           bigint      NOT NULL,
    cost                  numeric     NOT NULL,
    revenue               numeric     NOT NULL,
    revenue_out_of_window numeric     NOT NULL,
    attribution_lag_us    bigint      NOT NULL,
    attribution_lag_count bigint      NOT NULL,
    CONSTRAINT metrics_hourly_campaign_cell UNIQUE NULLS NOT DISTINCT (hour, campaign_id, creative_id, geo_country, platform)
);

CREATE TABLE IF NOT EXISTS metrics_daily_campaign (
    day                   timestamptz NOT NULL,
    campaign_id           text,
    creative_id           text CHECK (creative_id IS NULL),
    geo_country           text CHECK (geo_country IS NULL),
    platform              text CHECK (platform IS NULL),
    impressions           bigint      NOT NULL,
    clicks                bigint      NOT NULL,
    conversions           bigint      NOT NULL,
    cost                  numeric     NOT NULL,
    revenue               numeric     NOT NULL,
    revenue_out_of_window numeric     NOT NULL,
    attribution_lag_us    bigint      NOT NULL,
    attribution_lag_count bigint      NOT NULL,
    CONSTRAINT metrics_daily_campaign_cell UNIQUE NULLS NOT DISTINCT (day, campaign_id, creative_id, geo_country, platform)
);
