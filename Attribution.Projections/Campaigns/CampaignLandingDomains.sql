-- Issue 19: a campaign's landing domains, the hosts /click may redirect to without a signature. An SCD2 attribute
-- like the others: each version carries its list (lowercase, punycode, "*.x" for subdomains of x; sorted and
-- distinct, as Attribution.Domain's LandingDomains writes it). Existing versions get an empty list: only signed
-- clicks redirect for them until a change sets one. In staging and rejections, null means "keep the current list".
ALTER TABLE dim_campaigns ADD COLUMN IF NOT EXISTS landing_domains text[] NOT NULL DEFAULT '{}';
ALTER TABLE dim_campaigns_staging ADD COLUMN IF NOT EXISTS landing_domains text[];
ALTER TABLE dim_campaigns_rejections ADD COLUMN IF NOT EXISTS landing_domains text[];
