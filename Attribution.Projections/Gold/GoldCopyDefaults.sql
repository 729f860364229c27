-- The pipeline writes new Gold rows by binary COPY, which cannot call now(): the column's default gives them the
-- writing transaction's time, as the upsert's now() does.
ALTER TABLE ad_performance_state ALTER COLUMN last_updated_ts SET DEFAULT now();
