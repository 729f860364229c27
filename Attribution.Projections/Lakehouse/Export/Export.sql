-- How far each lakehouse table is exported: the highest source marker (events.seq for Bronze,
-- ad_performance_state.change_seq for Gold) already committed to the Iceberg table, and the snapshot that carried
-- it. The Iceberg snapshot summaries record the same marker; the exporter takes the larger of the two on start, so a
-- crash between the Iceberg commit and this update never exports a range twice.
CREATE TABLE IF NOT EXISTS lakehouse_export_state (
    table_name      text PRIMARY KEY,
    high_water_mark bigint      NOT NULL,
    snapshot_id     bigint,
    rows_exported   bigint      NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
