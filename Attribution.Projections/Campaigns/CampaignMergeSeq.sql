-- Issue 21: dims.dim_campaigns in the lakehouse, one Iceberg snapshot per SCD2 merge. Every write to a dimension
-- (a direct change, a staged merge, a users batch) stamps the rows it writes with one value of dims_merge_seq, taken
-- under the dimension's write lock, so values commit in order; the export turns the rows of each value into one
-- snapshot (Lakehouse/Export/DimensionExporter.cs). Rows written before this migration form one first merge; a row
-- written by anything else (a hand-made fix) gets a marker of its own by default, so it is exported too.
CREATE SEQUENCE IF NOT EXISTS dims_merge_seq;
ALTER TABLE dim_campaigns ADD COLUMN IF NOT EXISTS merge_seq bigint;
UPDATE dim_campaigns SET merge_seq = (SELECT nextval('dims_merge_seq')) WHERE merge_seq IS NULL;
ALTER TABLE dim_campaigns ALTER COLUMN merge_seq SET DEFAULT nextval('dims_merge_seq');
ALTER TABLE dim_campaigns ALTER COLUMN merge_seq SET NOT NULL;
CREATE INDEX IF NOT EXISTS dim_campaigns_merge_seq ON dim_campaigns (merge_seq);
