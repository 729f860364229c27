-- The fraud rules in force: one row, the settings document as the API shows it, and the configuration it was last
-- seeded from (a Fraud:* value changed in configuration wins over the API's; otherwise the API's stays).
CREATE TABLE IF NOT EXISTS fraud_settings (
    id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
    settings   jsonb       NOT NULL,
    seeded     jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
