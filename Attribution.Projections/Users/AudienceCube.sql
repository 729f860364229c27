-- The audience cube (issue 21: audience p95 < 500 ms over 10 M impressions and 1 M users). Joining Gold to the user
-- version valid at each impression costs a row store some 5-10 M joined rows a second, so long ranges cannot be joined
-- at query time. The cube keeps, per bucket, the sums of every grouping by at most two of the bands (or by interest
-- alone: AudiencePlan.Covers) and a HyperLogLog sketch of the users (postgresql-hll: unique reach is a union of
-- sketches, exact up to 640 users a group and within about 1.2 % (one standard error) above). Buckets are days per
-- campaign and hours for all campaigns together; AudienceCube refreshes the days whose Gold rows or profiles changed,
-- and the query reads a bucket only while each of its hours is clean (AudienceFreshness).
CREATE EXTENSION IF NOT EXISTS hll;

CREATE TABLE IF NOT EXISTS audience_cells (
    bucket      timestamptz NOT NULL, -- the day (a campaign's cells) or the hour (hourly: every campaign, campaign_id '')
    hourly      boolean     NOT NULL,
    campaign_id text        NOT NULL,
    dims        smallint    NOT NULL, -- the grouping: one bit per dimension, in Audience.Dimensions' order
    key1        text        NOT NULL, -- the groups of the grouping's dimensions in that order, '' past its last
    key2        text        NOT NULL,
    impressions bigint      NOT NULL,
    clicks      bigint      NOT NULL,
    conversions bigint      NOT NULL,
    cost        numeric     NOT NULL,
    revenue     numeric     NOT NULL,
    reach       hll         NOT NULL
);
CREATE INDEX IF NOT EXISTS audience_cells_read ON audience_cells (dims, hourly, campaign_id, bucket);
CREATE INDEX IF NOT EXISTS audience_cells_day ON audience_cells (bucket);

-- The days the cube holds; a day missing here is read from Gold.
CREATE TABLE IF NOT EXISTS audience_days (
    day          date PRIMARY KEY,
    refreshed_at timestamptz NOT NULL DEFAULT now()
);

-- How far the cube has seen: Gold rows up to gold_seq (change_seq) and dim_users rows up to users_seq (merge_seq).
-- A change past either makes its days dirty until the next refresh.
CREATE TABLE IF NOT EXISTS audience_watermark (
    id        integer PRIMARY KEY CHECK (id = 1),
    gold_seq  bigint NOT NULL,
    users_seq bigint NOT NULL
);
INSERT INTO audience_watermark VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING;

-- The earliest impression time each dim_users write can move to another group (Audience.RegroupsFrom): a profile
-- change dirties the cube's days from there on, not from the start of the version it closed. Null (rows written
-- before this column, or by COPY) counts from the row's start.
ALTER TABLE dim_users ADD COLUMN IF NOT EXISTS regroups_from timestamptz;
