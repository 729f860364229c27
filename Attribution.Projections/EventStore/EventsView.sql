-- Bronze as the SQL reads (analytics, multi-touch, retention's scan, the Iceberg export) see it: Marten's mt_events
-- with each event's fields as columns, under the names the events table had before Marten held the store. Archived
-- streams (retired by retention: Marten's stream archiving) are not in it. mt_immutable_timestamptz is Marten's own
-- immutable text → timestamptz, so the event-time index below serves the view's event_time. Columns added later go
-- at the end: CREATE OR REPLACE VIEW can only append.
CREATE OR REPLACE VIEW events AS
SELECT e.seq_id                                                AS seq,
       e.stream_id::text                                       AS stream_id,
       e.version::integer                                      AS stream_version,
       e.data ->> 'event_id'                                   AS event_id,
       CASE e.type WHEN 'impression_served' THEN 'IMPRESSION'
                   WHEN 'ad_clicked' THEN 'CLICK'
                   WHEN 'conversion_reported' THEN 'CONVERSION' END AS event_type,
       mt_immutable_timestamptz(e.data ->> 'event_time')       AS event_time,
       mt_immutable_timestamptz(e.data ->> 'ingest_time')      AS ingest_time,
       (e.headers ->> 'kafka_partition')::integer              AS kafka_partition,
       (e.headers ->> 'kafka_offset')::bigint                  AS kafka_offset,
       e.data ->> 'campaign_id'                                AS campaign_id,
       e.data ->> 'creative_id'                                AS creative_id,
       e.data ->> 'user_id'                                    AS user_id,
       e.data ->> 'geo_country'                                AS geo_country,
       e.data ->> 'platform'                                   AS platform,
       (e.data ->> 'bid_price')::numeric(18, 6)                AS bid_price,
       (e.data ->> 'conversion_value')::numeric(18, 6)         AS conversion_value,
       e.data ->> 'conversion_type'                            AS conversion_type,
       e.data ->> 'click_id'                                   AS click_id,
       (e.headers ->> 'raw_payload')::json                     AS raw_payload,
       e.timestamp                                             AS appended_at,
       e.data ->> 'ip_address'                                 AS ip_address,
       e.data ->> 'user_agent'                                 AS user_agent
FROM mt_events e
WHERE NOT e.is_archived;

CREATE INDEX IF NOT EXISTS mt_events_event_time ON mt_events (mt_immutable_timestamptz(data ->> 'event_time'));
