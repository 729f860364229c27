-- Jobs run on Hangfire (its own schema, created by Hangfire.PostgreSql): the Quartz job store and our run history
-- that databases migrated before that still hold are dropped. Migration 2 no longer creates them, so on a new
-- database these statements find nothing to drop.
DROP TABLE IF EXISTS
    qrtz_fired_triggers, qrtz_paused_trigger_grps, qrtz_paused_job_grps, qrtz_scheduler_state, qrtz_locks,
    qrtz_simple_triggers, qrtz_cron_triggers, qrtz_simprop_triggers, qrtz_blob_triggers, qrtz_triggers,
    qrtz_job_details, qrtz_calendars, qrtz_execution_history, qrtz_misfire_history, qrtz_job_status,
    job_runs
    CASCADE;
