-- What-if replays: the stored events folded under other attribution rules into a shadow Gold of their own, the
-- schema named here (whatif_<replay_id>, made by our code only), never into live Gold, the audit log or the rollups.
CREATE TABLE IF NOT EXISTS whatif_replays (
    replay_id                   text             PRIMARY KEY,
    schema_name                 text             NOT NULL UNIQUE,
    state                       text             NOT NULL CHECK (state IN ('running', 'completed', 'failed')),
    lookback_days               double precision NOT NULL,
    late_threshold_minutes      double precision NOT NULL,
    impressions_from            timestamptz,
    impressions_to              timestamptz,
    live_lookback_days          double precision NOT NULL,
    live_late_threshold_minutes double precision NOT NULL,
    done                        bigint           NOT NULL DEFAULT 0,
    total                       bigint,
    changed                     bigint           NOT NULL DEFAULT 0,
    started_at                  timestamptz      NOT NULL DEFAULT now(),
    finished_at                 timestamptz,
    error                       text
);
-- One what-if runs at a time, across instances: each folds the whole event store on the cores the pipeline needs.
CREATE UNIQUE INDEX IF NOT EXISTS whatif_replays_one_running ON whatif_replays ((true)) WHERE state = 'running';
