-- Fills the hourly rollup from Gold, for databases that had Gold before the rollup existed and for replay. The same
-- definition as HourlyRollupRule in Attribution.Domain, in SQL; the rollup tests check that the two agree.
INSERT INTO metrics_hourly (hour, campaign_id, creative_id, geo_country, platform, impressions, clicks, conversions,
                            cost, revenue, revenue_out_of_window, attribution_lag_us, attribution_lag_count)
SELECT date_trunc('hour', impression_time, 'UTC'), campaign_id, creative_id, geo_country, platform,
       count(*),
       count(*) FILTER (WHERE is_clicked),
       count(*) FILTER (WHERE is_converted),
       sum(cost), sum(revenue), sum(revenue_out_of_window),
       coalesce(sum((extract(epoch FROM conversion_time - impression_time) * 1000000)::bigint)
                FILTER (WHERE is_converted AND conversion_time IS NOT NULL), 0),
       count(*) FILTER (WHERE is_converted AND conversion_time IS NOT NULL)
FROM ad_performance_state
WHERE impression_time IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO metrics_daily (day, campaign_id, creative_id, geo_country, platform, impressions, clicks, conversions,
                           cost, revenue, revenue_out_of_window, attribution_lag_us, attribution_lag_count)
SELECT date_trunc('day', hour, 'UTC'), campaign_id, creative_id, geo_country, platform,
       sum(impressions), sum(clicks), sum(conversions), sum(cost), sum(revenue), sum(revenue_out_of_window),
       sum(attribution_lag_us), sum(attribution_lag_count)
FROM metrics_hourly
GROUP BY 1, 2, 3, 4, 5;
