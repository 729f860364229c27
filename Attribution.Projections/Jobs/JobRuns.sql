-- One row per run of a maintenance job, written by MaintenanceJobRunner: what ran, where, how long, what it touched
-- and how it ended. progress is updated while it runs; a run still 'running' when the next run of the same job
-- starts belonged to a process that died and is marked 'abandoned'.
CREATE TABLE IF NOT EXISTS job_runs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_name         text             NOT NULL,
    trigger_kind     text             NOT NULL,
    instance_id      text             NOT NULL,
    started_at       timestamptz      NOT NULL DEFAULT clock_timestamp(),
    finished_at      timestamptz,
    outcome          text             NOT NULL DEFAULT 'running',
    progress         double precision,
    progress_message text,
    rows_touched     bigint           NOT NULL DEFAULT 0,
    files_touched    bigint           NOT NULL DEFAULT 0,
    summary          text,
    error            text,
    CONSTRAINT job_runs_outcome CHECK (outcome IN ('running', 'succeeded', 'failed', 'cancelled', 'skipped', 'abandoned'))
);
CREATE INDEX IF NOT EXISTS job_runs_job_id ON job_runs (job_name, id DESC);
