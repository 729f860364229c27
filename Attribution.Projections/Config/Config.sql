-- Attribution settings in force for events applied from now on. seeded_value remembers what configuration said,
-- so a changed configuration wins over the table while a change made through the API survives a restart.
CREATE TABLE IF NOT EXISTS attribution_config (
    key          text PRIMARY KEY,
    value        text        NOT NULL,
    seeded_value text        NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
