-- Gold: one row per impression, the 18 columns of design 000 §3.2.2 plus the stream version folded into it.
-- Money is numeric so sums are exact to the micro-unit.
CREATE TABLE IF NOT EXISTS ad_performance_state (
    impression_id         text PRIMARY KEY,
    campaign_id           text,
    creative_id           text,
    user_id               text,
    geo_country           text,
    platform              text,
    is_clicked            boolean        NOT NULL,
    is_converted          boolean        NOT NULL,
    impression_time       timestamptz,
    click_time            timestamptz,
    conversion_time       timestamptz,
    cost                  numeric(18, 6) NOT NULL,
    revenue               numeric(18, 6) NOT NULL,
    eligible              boolean        NOT NULL,
    is_late               boolean        NOT NULL,
    late_by_ms            bigint         NOT NULL,
    revenue_out_of_window numeric(18, 6) NOT NULL,
    last_updated_ts       timestamptz    NOT NULL,
    stream_version        integer        NOT NULL
);
CREATE INDEX IF NOT EXISTS ad_performance_state_campaign_time ON ad_performance_state (campaign_id, impression_time);
CREATE INDEX IF NOT EXISTS ad_performance_state_impression_time ON ad_performance_state (impression_time);
