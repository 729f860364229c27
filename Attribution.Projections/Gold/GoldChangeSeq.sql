-- A change marker on every Gold row, so the lakehouse export picks up exactly the rows written since its last run.
-- last_updated_ts cannot serve: it is the writing transaction's start time, so a batch that commits late writes
-- times older than rows an export has already passed. Sequence values are handed out in order, and the export only
-- reads up to a barrier taken when no writer is in flight (Lakehouse/Export/ExportBarrier.cs), so a value below the
-- barrier can no longer appear after it. Every upsert takes a new value (GoldWriter), new rows get it by default.
CREATE SEQUENCE IF NOT EXISTS ad_performance_state_change_seq;
ALTER TABLE ad_performance_state
    ADD COLUMN IF NOT EXISTS change_seq bigint NOT NULL DEFAULT nextval('ad_performance_state_change_seq');
ALTER SEQUENCE ad_performance_state_change_seq OWNED BY ad_performance_state.change_seq;
CREATE INDEX IF NOT EXISTS ad_performance_state_change_seq_idx ON ad_performance_state (change_seq);
