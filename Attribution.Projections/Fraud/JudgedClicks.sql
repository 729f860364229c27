-- The burst rules' index of clicks (issue 22: CLICK_FLOODING per address, USER_CLICK_VELOCITY per user): every judged
-- click (it carries an ip_address or a user_agent) with an address or a user, written in the transaction that appends
-- it, so that a batch reads the clicks of other impressions in a key's minute without scanning the event store.
-- Retention deletes an impression's rows when it retires its events.
CREATE TABLE IF NOT EXISTS judged_clicks (
    event_id      text        PRIMARY KEY,
    impression_id text        NOT NULL,
    ip_address    text,
    user_id       text,
    event_time    timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS judged_clicks_ip ON judged_clicks (ip_address, event_time) WHERE ip_address IS NOT NULL;
CREATE INDEX IF NOT EXISTS judged_clicks_user ON judged_clicks (user_id, event_time) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS judged_clicks_impression ON judged_clicks (impression_id);

INSERT INTO judged_clicks (event_id, impression_id, ip_address, user_id, event_time)
SELECT event_id, stream_id, ip_address, user_id, event_time
FROM events
WHERE event_type = 'CLICK' AND (ip_address IS NOT NULL OR user_agent IS NOT NULL) AND (ip_address IS NOT NULL OR user_id IS NOT NULL)
ON CONFLICT (event_id) DO NOTHING;
