-- The audience facts (issue 21): every impression of the days the cube holds, with the groups of the user version valid
-- at its impression time resolved once, at the day's refresh. Groupings the cube does not cover (three bands or more,
-- interest with a band) are read from here row by row and totalled in the service with exact reach: joining Gold to
-- dim_users at query time cost 550-800 ms for a day of 333,333 impressions, sketch updates another 800 ms. Rows are
-- narrow and fixed-width (groups as codes, money in micro-units, the user as a 64-bit hash) because reading them is
-- the query's cost. Rebuilt with the cube's days, emptied with them by a Gold replay.

-- Band values as codes (one space for every band: a code says which value, its column which band).
CREATE TABLE IF NOT EXISTS audience_codes (
    code  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    value text NOT NULL UNIQUE
);

-- A user's interests as one code per distinct set ("unknown" alone for none), so a fact row stays fixed-width.
CREATE TABLE IF NOT EXISTS audience_interest_sets (
    code      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    interests text[] NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS audience_facts (
    impression_time timestamptz NOT NULL,
    campaign_id     text        NOT NULL, -- '' for none
    user_hash       bigint,               -- hashtextextended(user_id, 0); null when Gold has no user
    age_band        integer     NOT NULL, -- audience_codes
    gender          integer     NOT NULL,
    country         integer     NOT NULL,
    segment         integer     NOT NULL,
    interests       integer     NOT NULL, -- audience_interest_sets
    is_clicked      boolean     NOT NULL,
    is_converted    boolean     NOT NULL,
    cost_micros     bigint      NOT NULL, -- Gold's numeric(18, 6) × 10^6: exact, and summed as integers
    revenue_micros  bigint      NOT NULL
);
CREATE INDEX IF NOT EXISTS audience_facts_time ON audience_facts (impression_time);
CREATE INDEX IF NOT EXISTS audience_facts_campaign_time ON audience_facts (campaign_id, impression_time);

-- Days built before the facts existed have none: the cube forgets them and the next refresh rebuilds every day with
-- its facts (until then each is read from Gold, as a dirty day is).
TRUNCATE audience_cells, audience_days;
UPDATE audience_watermark SET gold_seq = 0, users_seq = 0 WHERE id = 1;
