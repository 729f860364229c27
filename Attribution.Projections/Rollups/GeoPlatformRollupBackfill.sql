-- Fills the geo × platform tier from the full tiers (which equal Gold): for the migration that adds it, and for replay.
INSERT INTO metrics_hourly_geo_platform (hour, campaign_id, geo_country, platform, impressions, clicks, conversions,
                                         cost, revenue, revenue_out_of_window, attribution_lag_us, attribution_lag_count)
SELECT hour, campaign_id, geo_country, platform, sum(impressions), sum(clicks), sum(conversions), sum(cost), sum(revenue),
       sum(revenue_out_of_window), sum(attribution_lag_us), sum(attribution_lag_count)
FROM metrics_hourly
GROUP BY 1, 2, 3, 4;

INSERT INTO metrics_daily_geo_platform (day, campaign_id, geo_country, platform, impressions, clicks, conversions,
                                        cost, revenue, revenue_out_of_window, attribution_lag_us, attribution_lag_count)
SELECT day, campaign_id, geo_country, platform, sum(impressions), sum(clicks), sum(conversions), sum(cost), sum(revenue),
       sum(revenue_out_of_window), sum(attribution_lag_us), sum(attribution_lag_count)
FROM metrics_daily
GROUP BY 1, 2, 3, 4;
