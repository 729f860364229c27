-- Issue 22: how each campaign version bills, SCD2 attributes like the others. Existing versions bill per impression
-- (CPM, the default). A CPC version needs a cpc_rate, the price of one valid click; a CPM version may keep the rate of
-- an earlier CPC one. In staging and rejections, null means "keep the current value".
ALTER TABLE dim_campaigns ADD COLUMN IF NOT EXISTS billing_model text NOT NULL DEFAULT 'CPM';
ALTER TABLE dim_campaigns ADD COLUMN IF NOT EXISTS cpc_rate numeric(18, 6);
ALTER TABLE dim_campaigns ADD CONSTRAINT dim_campaigns_billing_model CHECK (billing_model IN ('CPM', 'CPC'));
ALTER TABLE dim_campaigns ADD CONSTRAINT dim_campaigns_cpc_rate
    CHECK ((cpc_rate IS NULL OR cpc_rate >= 0) AND (billing_model <> 'CPC' OR cpc_rate IS NOT NULL));
ALTER TABLE dim_campaigns_staging ADD COLUMN IF NOT EXISTS billing_model text;
ALTER TABLE dim_campaigns_staging ADD COLUMN IF NOT EXISTS cpc_rate numeric(18, 6);
ALTER TABLE dim_campaigns_rejections ADD COLUMN IF NOT EXISTS billing_model text;
ALTER TABLE dim_campaigns_rejections ADD COLUMN IF NOT EXISTS cpc_rate numeric(18, 6);
