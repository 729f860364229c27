-- Every batch adds its delta to a few thousand rollup cells, so the rollup tables are updated far more often than
-- inserted into. With full pages an update cannot stay on its page: each one wrote new entries into both indexes of
-- its table (wide five-column keys) and PostgreSQL then spent its time deleting the dead ones (bottom-up deletion).
-- Half-empty pages let almost every update be a heap-only (HOT) update that touches no index. The tables are small
-- (one row per cell), so the space costs little. Pages written before this keep their layout until rewritten.
ALTER TABLE metrics_hourly SET (fillfactor = 50);
ALTER TABLE metrics_daily SET (fillfactor = 50);
ALTER TABLE metrics_weekly SET (fillfactor = 50);
ALTER TABLE metrics_hourly_campaign SET (fillfactor = 50);
ALTER TABLE metrics_daily_campaign SET (fillfactor = 50);
ALTER TABLE metrics_weekly_campaign SET (fillfactor = 50);
ALTER TABLE metrics_hourly_geo_platform SET (fillfactor = 50);
ALTER TABLE metrics_daily_geo_platform SET (fillfactor = 50);
ALTER TABLE metrics_weekly_geo_platform SET (fillfactor = 50);
