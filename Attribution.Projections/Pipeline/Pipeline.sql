-- Kafka offsets live here, committed in the same transaction as the events they carried. cluster_id keeps an
-- embedded broker's offsets from being applied to the next, empty one.
CREATE TABLE IF NOT EXISTS kafka_offsets (
    consumer_group  text        NOT NULL,
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    cluster_id      text        NOT NULL,
    next_offset     bigint      NOT NULL,
    events_applied  bigint      NOT NULL DEFAULT 0,
    last_applied_at timestamptz,
    PRIMARY KEY (consumer_group, topic, kafka_partition)
);

-- Messages the broker dropped before we read them: never skipped silently.
CREATE TABLE IF NOT EXISTS kafka_lost_messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer_group  text        NOT NULL,
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    cluster_id      text        NOT NULL,
    from_offset     bigint      NOT NULL,
    to_offset       bigint      NOT NULL,
    detected_at     timestamptz NOT NULL DEFAULT now()
);
