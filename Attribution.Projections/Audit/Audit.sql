-- Everything that did not count, and why. DUPLICATE_EVENT, INVALID and UNKNOWN_CLICK_ID rows are appended;
-- the outcomes that depend on an impression's other events are replaced whenever that impression is folded.
CREATE TABLE IF NOT EXISTS audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        text,
    impression_id   text,
    event_type      text,
    reason          text        NOT NULL,
    detail          text,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    kafka_partition integer,
    kafka_offset    bigint,
    raw_payload     text
);
CREATE INDEX IF NOT EXISTS audit_log_impression_id ON audit_log (impression_id);
CREATE INDEX IF NOT EXISTS audit_log_event_id ON audit_log (event_id);
CREATE INDEX IF NOT EXISTS audit_log_reason ON audit_log (reason, id);
