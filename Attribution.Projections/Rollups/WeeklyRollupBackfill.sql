-- Fills the weekly level of every tier from its daily table (which equals Gold): for the migration that adds it, and
-- for replay, which fills the daily tables first.
INSERT INTO metrics_weekly (week, campaign_id, creative_id, geo_country, platform, impressions, clicks, conversions,
                            cost, revenue, revenue_out_of_window, attribution_lag_us, attribution_lag_count)
SELECT date_trunc('week', day, 'UTC'), campaign_id, creative_id, geo_country, platform, sum(impressions), sum(clicks),
       sum(conversions), sum(cost), sum(revenue), sum(revenue_out_of_window), sum(attribution_lag_us), sum(attribution_lag_count)
FROM metrics_daily
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO metrics_weekly_campaign (week, campaign_id, impressions, clicks, conversions, cost, revenue,
                                     revenue_out_of_window, attribution_lag_us, attribution_lag_count)
SELECT date_trunc('week', day, 'UTC'), campaign_id, sum(impressions), sum(clicks), sum(conversions), sum(cost),
       sum(revenue), sum(revenue_out_of_window), sum(attribution_lag_us), sum(attribution_lag_count)
FROM metrics_daily_campaign
GROUP BY 1, 2;

INSERT INTO metrics_weekly_geo_platform (week, campaign_id, geo_country, platform, impressions, clicks, conversions,
                                         cost, revenue, revenue_out_of_window, attribution_lag_us, attribution_lag_count)
SELECT date_trunc('week', day, 'UTC'), campaign_id, geo_country, platform, sum(impressions), sum(clicks),
       sum(conversions), sum(cost), sum(revenue), sum(revenue_out_of_window), sum(attribution_lag_us), sum(attribution_lag_count)
FROM metrics_daily_geo_platform
GROUP BY 1, 2, 3, 4;
