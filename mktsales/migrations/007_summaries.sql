-- 007: summary tables (issue 9). The overview's and the funnel's period numbers read these instead of
-- scanning ten million activities and six million payments. They are kept current in the same
-- transaction as every write (mktsales/summaries.py): incrementally by the write paths that change
-- base rows (entries), rebuilt set-based after a bulk load (demo) or any other write that touches a
-- base table. Never edited by hand; `mktsales.summaries.rebuild` recomputes them from the base tables.
-- Amounts are exact (DECIMAL sums), so a summary equals a recomputation to the cent.
-- Counters default to 0, so an increment may name only the counters it changes.
-- A key column that is NULL in the base table is stored as a sentinel (a primary key cannot hold
-- NULL): campaign_id -1 = no campaign, source '' = no lead found.

-- Activities per day, region and category; reach, engaged and spend of the marketing track only.
CREATE TABLE daily_activities (
    day          DATE NOT NULL,
    region_id    INTEGER NOT NULL,
    category_id  INTEGER NOT NULL,
    activities   BIGINT NOT NULL DEFAULT 0,  -- both tracks
    with_advisor BIGINT NOT NULL DEFAULT 0,  -- both tracks, advisor_id set
    marketing    BIGINT NOT NULL DEFAULT 0,  -- marketing-track activities
    reach        BIGINT NOT NULL DEFAULT 0,
    engaged      BIGINT NOT NULL DEFAULT 0,
    spend        DECIMAL(38, 2) NOT NULL DEFAULT 0,
    PRIMARY KEY (day, region_id, category_id)
);

-- Lead stage events per day (the day the stage was reached), by the lead's region, category,
-- source and campaign. pipeline_opened: opportunity values by the day the opportunity opened;
-- pipeline_closed: the same values by the day it closed (won or lost), so the pipeline open at
-- the end of a period is opened - closed over the days before that end.
CREATE TABLE daily_leads (
    day             DATE NOT NULL,
    region_id       INTEGER NOT NULL,
    category_id     INTEGER NOT NULL,
    source          VARCHAR NOT NULL,
    campaign_id     INTEGER NOT NULL,       -- -1: no campaign
    leads           BIGINT NOT NULL DEFAULT 0,  -- created
    mql             BIGINT NOT NULL DEFAULT 0,
    sal             BIGINT NOT NULL DEFAULT 0,
    rejected        BIGINT NOT NULL DEFAULT 0,
    opportunities   BIGINT NOT NULL DEFAULT 0,
    won             BIGINT NOT NULL DEFAULT 0,
    lost            BIGINT NOT NULL DEFAULT 0,
    pipeline_opened DECIMAL(38, 2) NOT NULL DEFAULT 0,
    pipeline_closed DECIMAL(38, 2) NOT NULL DEFAULT 0,
    PRIMARY KEY (day, region_id, category_id, source, campaign_id)
);

-- Orders booked per day, region and category.
CREATE TABLE daily_orders (
    day         DATE NOT NULL,
    region_id   INTEGER NOT NULL,
    category_id INTEGER NOT NULL,
    orders      BIGINT NOT NULL DEFAULT 0,
    amount      DECIMAL(38, 2) NOT NULL DEFAULT 0,
    PRIMARY KEY (day, region_id, category_id)
);

-- Payments collected per day, by the region and category of their order.
CREATE TABLE daily_payments (
    day         DATE NOT NULL,
    region_id   INTEGER NOT NULL,
    category_id INTEGER NOT NULL,
    payments    BIGINT NOT NULL DEFAULT 0,
    amount      DECIMAL(38, 2) NOT NULL DEFAULT 0,
    PRIMARY KEY (day, region_id, category_id)
);

-- Each order that closes a won lead, with what has been paid on it: settled_on is the day it
-- became fully paid (its last payment, once payments cover the amount), the day the lead counts
-- as collected. source and campaign_id are the lead's, for the funnel's breakdowns.
CREATE TABLE lead_orders (
    order_id    BIGINT PRIMARY KEY,
    lead_id     BIGINT NOT NULL,
    region_id   INTEGER NOT NULL,
    category_id INTEGER NOT NULL,
    source      VARCHAR NOT NULL,           -- '': the lead is not in leads
    campaign_id INTEGER NOT NULL,           -- -1: no campaign
    amount      DECIMAL(18, 2) NOT NULL,
    payments    BIGINT NOT NULL,
    paid        DECIMAL(38, 2) NOT NULL,
    last_paid   DATE,
    settled_on  DATE
);

-- A database that already holds data gets them filled from its base tables when it is next opened
-- (mktsales.db.Database, through mktsales.summaries.rebuild); an empty one has nothing to fill.
INSERT INTO meta
SELECT 'summaries_stale', '1'
WHERE EXISTS (FROM activities) OR EXISTS (FROM leads) OR EXISTS (FROM orders) OR EXISTS (FROM payments);
