-- dim_users (design 000 §3.3, issue 21): one row per version of a user's profile, SCD type 2 like dim_campaigns,
-- valid during [start_ts, end_ts) with the 9999-12-31 high watermark for the current one. Demographics are bands,
-- never raw personal data (Attribution.Domain's UserProfile checks them); a null band is "not known".
CREATE SEQUENCE IF NOT EXISTS dim_users_key_seq;
CREATE TABLE IF NOT EXISTS dim_users (
    user_key   bigint PRIMARY KEY,
    user_id    text        NOT NULL,
    age_band   text,
    gender     text,
    country    text,
    interests  text[]      NOT NULL DEFAULT '{}',
    segment    text,
    start_ts   timestamptz NOT NULL,
    end_ts     timestamptz NOT NULL,
    is_current boolean     NOT NULL,
    merge_seq  bigint      NOT NULL DEFAULT nextval('dims_merge_seq'),
    CONSTRAINT dim_users_valid_for_some_instant CHECK (start_ts < end_ts),
    CONSTRAINT dim_users_current_is_open CHECK (is_current = (end_ts = timestamptz '9999-12-31 00:00:00+00')),
    CONSTRAINT dim_users_no_overlap EXCLUDE USING gist (user_id WITH =, tstzrange(start_ts, end_ts) WITH &&)
);
CREATE UNIQUE INDEX IF NOT EXISTS dim_users_one_current ON dim_users (user_id) WHERE is_current;
-- The point-in-time join of the audience query: user_id = f.user_id AND start_ts <= f.impression_time < end_ts.
CREATE INDEX IF NOT EXISTS dim_users_user_start ON dim_users (user_id, start_ts) INCLUDE (end_ts);
CREATE INDEX IF NOT EXISTS dim_users_merge_seq ON dim_users (merge_seq);
