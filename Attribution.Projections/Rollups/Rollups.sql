-- The hourly rollup of Gold (issue 5): hour × campaign × creative × geo × platform. The batch that changes Gold
-- applies the old → new delta here in the same transaction, so the table always equals a GROUP BY over Gold.
-- A NULL dimension is a value of its own (NULLS NOT DISTINCT), exactly as GROUP BY treats it. The lag is summed in
-- whole microseconds so that adding and subtracting deltas stays exact.
CREATE TABLE IF NOT EXISTS metrics_hourly (
    hour                  timestamptz NOT NULL,
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
    CONSTRAINT metrics_hourly_cell UNIQUE NULLS NOT DISTINCT (hour, campaign_id, creative_id, geo_country, platform)
);
-- Time-range scans use the cell key (hour first); a campaign's series uses this one.
CREATE INDEX IF NOT EXISTS metrics_hourly_campaign_hour ON metrics_hourly (campaign_id, hour);

-- The same cells per UTC day, maintained from the same delta in the same transaction, so that ranges of days read 24
-- times fewer rows. It always equals a GROUP BY day over metrics_hourly (and so over Gold).
CREATE TABLE IF NOT EXISTS metrics_daily (
    day                   timestamptz NOT NULL,
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
    CONSTRAINT metrics_daily_cell UNIQUE NULLS NOT DISTINCT (day, campaign_id, creative_id, geo_country, platform)
);
CREATE INDEX IF NOT EXISTS metrics_daily_campaign_day ON metrics_daily (campaign_id, day);
