-- A/B tests of creatives: each experiment's arms (creative and weight, the first the control), its window and the
-- alpha and minimum detectable effect its verdict is read at. Figures come from Gold at query time.
CREATE TABLE IF NOT EXISTS experiments (
    experiment_id text             PRIMARY KEY,
    campaign_id   text             NOT NULL,
    creative_ids  text[]           NOT NULL,
    weights       double precision[] NOT NULL CHECK (cardinality(weights) = cardinality(creative_ids) AND cardinality(weights) >= 2),
    start_ts      timestamptz      NOT NULL,
    end_ts        timestamptz      CHECK (end_ts > start_ts),
    alpha         double precision NOT NULL,
    mde           double precision NOT NULL,
    created_at    timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS experiments_campaign ON experiments (campaign_id);
