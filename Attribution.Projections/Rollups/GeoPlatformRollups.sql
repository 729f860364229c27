-- The geo × platform tier of the rollups: the cells of metrics_hourly and metrics_daily summed over creatives
-- (creative_id is always NULL here). Creatives are the dimension with the most values per campaign, so questions by
-- campaign, geo and platform read several times fewer rows from it over long ranges. Same columns, cell key
-- (UNIQUE NULLS NOT DISTINCT) and indexes as the full tiers, so the same upsert maintains it, from the same delta in
-- the same transaction: it equals a GROUP BY over Gold as well.
CREATE TABLE IF NOT EXISTS metrics_hourly_geo_platform (LIKE metrics_hourly INCLUDING ALL, CHECK (creative_id IS NULL));
CREATE TABLE IF NOT EXISTS metrics_daily_geo_platform (LIKE metrics_daily INCLUDING ALL, CHECK (creative_id IS NULL));
