-- Indexes the analytics reads need on tables other projections own. Behavioural analytics and multi-touch scan
-- Bronze by event time; multi-touch reads Gold's conversions by conversion time.
CREATE INDEX IF NOT EXISTS events_event_time ON events (event_time);
CREATE INDEX IF NOT EXISTS ad_performance_state_conversion_time ON ad_performance_state (conversion_time) WHERE is_converted;
