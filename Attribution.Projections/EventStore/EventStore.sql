-- The Bronze "time machine": one row per accepted event, append-only. event_id is the idempotency key forever;
-- (stream_id, stream_version) gives each impression's history its order and catches concurrent writers.
CREATE TABLE IF NOT EXISTS events (
    seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id        text        NOT NULL,
    stream_version   integer     NOT NULL,
    event_id         text        NOT NULL,
    event_type       text        NOT NULL,
    event_time       timestamptz NOT NULL,
    ingest_time      timestamptz NOT NULL,
    kafka_partition  integer,
    kafka_offset     bigint,
    campaign_id      text,
    creative_id      text,
    user_id          text,
    geo_country      text,
    platform         text,
    bid_price        numeric(18, 6),
    conversion_value numeric(18, 6),
    conversion_type  text,
    click_id         text,
    raw_payload      json        NOT NULL,
    appended_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

-- Postbacks whose click_id names a click we have not seen yet: kept, and applied when that click arrives.
CREATE TABLE IF NOT EXISTS pending_conversions (
    event_id        text PRIMARY KEY,
    click_id        text        NOT NULL,
    raw_payload     json        NOT NULL,
    ingest_time     timestamptz NOT NULL,
    kafka_partition integer,
    kafka_offset    bigint,
    parked_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pending_conversions_click_id ON pending_conversions (click_id);
