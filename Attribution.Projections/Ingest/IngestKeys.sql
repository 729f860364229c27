-- Ingest keys made through the admin API (keys from configuration, Ingest:Keys:<id>, are not stored). The secret is
-- kept as issued: an HMAC is checked with the secret itself, so it cannot be stored as a hash (docs/SECURITY.md).
CREATE TABLE IF NOT EXISTS ingest_keys (
    key_id       text PRIMARY KEY,
    secret       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
