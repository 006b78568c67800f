-- 003: marketing campaigns (issue 3: the funnel broken down by campaign). A campaign groups the
-- marketing activities run under one plan; a lead carries the campaign of the activity that
-- produced it, copied like region and category so that every filter is a column test.

CREATE TABLE campaigns (
    campaign_id INTEGER PRIMARY KEY,
    name_zh     VARCHAR NOT NULL,
    name_en     VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL CHECK (kind IN ('ad', 'event', 'content', 'promotion')),
    category_id INTEGER REFERENCES categories (category_id),  -- NULL: every category
    start_date  DATE NOT NULL,
    end_date    DATE NOT NULL,                                 -- inclusive last day
    CHECK (end_date >= start_date)
);

ALTER TABLE activities ADD COLUMN campaign_id INTEGER;  -- NULL: not part of a campaign
ALTER TABLE leads ADD COLUMN campaign_id INTEGER;       -- NULL: no campaign (website, referral …)
