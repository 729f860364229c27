-- The geo × platform tier of the rollups: the cells of metrics_hourly and metrics_daily summed over creatives
-- (creative_id is always NULL here, so the cell key and the upsert are the full tiers'). Creatives are the dimension
-- with the most values per campaign, so questions by campaign, geo and platform read several times fewer rows from
-- it over long ranges. Maintained from the same delta in the same transaction, so it equals a GROUP BY over Gold.
CREATE TABLE IF NOT EXISTS metrics_hourly_geo_platform (
    hour                  timestamptz NOT NULL,
    campaign_id           text,
    creative_id           text CHECK (creative_id IS NULL),
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
    CONSTRAINT metrics_hourly_geo_platform_cell UNIQUE NULLS NOT DISTINCT (hour, campaign_id, creative_id, geo_country, platform)
);

CREATE TABLE IF NOT EXISTS metrics_daily_geo_platform (
    day                   timestamptz NOT NULL,
    campaign_id           text,
    creative_id           text CHECK (creative_id IS NULL),
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
    CONSTRAINT metrics_daily_geo_platform_cell UNIQUE NULLS NOT DISTINCT (day, campaign_id, creative_id, geo_country, platform)
);
