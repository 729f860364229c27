-- Gold gains the fraud rules' outcome (design 004): valid and flagged clicks, whether the impression itself is
-- flagged (never billed, credits no conversion), and every rule that flagged one of its events (comma-separated).
-- Rows written before hold no flagged event: their clicks are counted from the event store, and an impression whose
-- history retention removed keeps what its Gold row says (clicked or not).
ALTER TABLE ad_performance_state
    ADD COLUMN IF NOT EXISTS click_count         integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS invalid_click_count integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS fraud_suspected     boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS fraud_reasons       text    NOT NULL DEFAULT '';
UPDATE ad_performance_state SET click_count = 1 WHERE is_clicked;
UPDATE ad_performance_state g SET click_count = c.clicks
FROM (SELECT stream_id, count(*)::integer AS clicks FROM events WHERE event_type = 'CLICK' GROUP BY stream_id) c
WHERE g.impression_id = c.stream_id AND g.click_count <> c.clicks;
