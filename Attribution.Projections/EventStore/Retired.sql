-- Retention retires whole impressions from the events table once they are old and exported (Bronze keeps them).
-- retired_event_ids keeps their event ids so that dedup stays forever (and clicks stay resolvable for postbacks);
-- retired_impressions says which impressions have no history left here, so a late event for one of them is audited
-- instead of being folded onto an empty stream.
CREATE TABLE IF NOT EXISTS retired_impressions (
    impression_id   text PRIMARY KEY,
    events          integer     NOT NULL,
    last_seq        bigint      NOT NULL,
    last_event_time timestamptz NOT NULL,
    retired_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS retired_event_ids (
    event_id      text PRIMARY KEY,
    impression_id text,
    event_type    text        NOT NULL,
    retired_at    timestamptz NOT NULL DEFAULT now()
);
