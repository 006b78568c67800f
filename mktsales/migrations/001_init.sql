-- 001: the dual-track core. Reference data, marketing activities, the lead journey across both
-- tracks, orders and payments, targets, brand surveys, promotions. Never edit once landed:
-- add 002_*.sql instead.

CREATE TABLE regions (
    region_id   INTEGER PRIMARY KEY,
    code        VARCHAR NOT NULL UNIQUE,       -- stable English key: 'north', 'east', ...
    name_zh     VARCHAR NOT NULL UNIQUE,       -- 华北
    name_en     VARCHAR NOT NULL UNIQUE        -- North China
);

CREATE TABLE categories (
    category_id INTEGER PRIMARY KEY,
    code        VARCHAR NOT NULL UNIQUE,
    name_zh     VARCHAR NOT NULL UNIQUE,
    name_en     VARCHAR NOT NULL UNIQUE
);

CREATE TABLE products (
    product_id  INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL REFERENCES categories (category_id),
    name_zh     VARCHAR NOT NULL,
    name_en     VARCHAR NOT NULL,
    unit_price  DECIMAL(18, 2) NOT NULL CHECK (unit_price >= 0),
    unit_cost   DECIMAL(18, 2) NOT NULL CHECK (unit_cost >= 0)
);

-- Staff of both departments. department is the track a person works on.
CREATE TABLE people (
    person_id   INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    department  VARCHAR NOT NULL CHECK (department IN ('marketing', 'sales')),
    title       VARCHAR NOT NULL,              -- 'head', 'staff', 'rep'
    region_id   INTEGER REFERENCES regions (region_id)
);

CREATE TABLE customers (
    customer_id        INTEGER PRIMARY KEY,
    name               VARCHAR NOT NULL,
    channel            VARCHAR NOT NULL
                       CHECK (channel IN ('key_account', 'supermarket', 'convenience', 'distributor')),
    region_id          INTEGER NOT NULL REFERENCES regions (region_id),
    account_manager_id INTEGER REFERENCES people (person_id),
    credit_days        INTEGER NOT NULL DEFAULT 30  -- payment terms
);

-- Promotions (促销方案). Issue 4 builds the workflow on this; the foundation needs the dates,
-- regions, category and cost for demo data and approval_hours.
CREATE TABLE promotions (
    promotion_id INTEGER PRIMARY KEY,
    title_zh     VARCHAR NOT NULL,
    title_en     VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL CHECK (kind IN ('major', 'tactical')),
    origin       VARCHAR NOT NULL CHECK (origin IN ('marketing', 'sales')),  -- sales = 促销申请
    status       VARCHAR NOT NULL CHECK (status IN ('requested', 'drafting', 'consulting', 'approved',
                                                    'live', 'finished', 'reviewed', 'rejected',
                                                    'cancelled')),
    category_id  INTEGER NOT NULL REFERENCES categories (category_id),
    start_date   DATE NOT NULL,
    end_date     DATE NOT NULL,                -- inclusive last day
    budget       DECIMAL(18, 2) NOT NULL DEFAULT 0,
    owner_id     INTEGER REFERENCES people (person_id),
    requested_at TIMESTAMP,                    -- set for origin = 'sales'
    decided_at   TIMESTAMP,                    -- approval or rejection of a request
    CHECK (end_date >= start_date),
    CHECK (decided_at IS NULL OR decided_at >= requested_at)
);

CREATE TABLE promotion_regions (
    promotion_id INTEGER NOT NULL REFERENCES promotions (promotion_id),
    region_id    INTEGER NOT NULL REFERENCES regions (region_id),
    PRIMARY KEY (promotion_id, region_id)
);

-- Activities of both tracks: marketing touches (ads, events, content, promotion support) with
-- reach, engagement and cost; sales visits. advisor_id names the other track's participant.
CREATE TABLE activities (
    activity_id   BIGINT PRIMARY KEY,
    activity_date DATE NOT NULL,
    track         VARCHAR NOT NULL CHECK (track IN ('marketing', 'sales')),
    kind          VARCHAR NOT NULL CHECK (kind IN ('ad', 'event', 'content', 'promotion', 'visit')),
    region_id     INTEGER NOT NULL REFERENCES regions (region_id),
    category_id   INTEGER NOT NULL REFERENCES categories (category_id),
    owner_id      INTEGER REFERENCES people (person_id),
    advisor_id    INTEGER REFERENCES people (person_id),
    promotion_id  INTEGER REFERENCES promotions (promotion_id),
    reach         INTEGER NOT NULL DEFAULT 0 CHECK (reach >= 0),
    engaged       INTEGER NOT NULL DEFAULT 0 CHECK (engaged >= 0 AND engaged <= reach),
    cost          DECIMAL(18, 2) NOT NULL DEFAULT 0 CHECK (cost >= 0)
);

-- One row per lead, carrying its whole journey across both tracks. A stage timestamp is NULL
-- until the lead reaches that stage. closed_at + outcome close an opportunity (won or lost).
CREATE TABLE leads (
    lead_id        BIGINT PRIMARY KEY,
    region_id      INTEGER NOT NULL REFERENCES regions (region_id),
    category_id    INTEGER NOT NULL REFERENCES categories (category_id),
    source         VARCHAR NOT NULL,          -- ad, event, content, website, referral, trade_show
    activity_id    BIGINT,                    -- the marketing activity that produced it, if known
    owner_id       INTEGER REFERENCES people (person_id),
    created_at     TIMESTAMP NOT NULL,
    mql_at         TIMESTAMP,
    sal_at         TIMESTAMP,                 -- accepted by sales: the handoff
    rejected_at    TIMESTAMP,                 -- MQL rejected by sales
    reject_reason  VARCHAR,
    opportunity_at TIMESTAMP,
    closed_at      TIMESTAMP,
    outcome        VARCHAR CHECK (outcome IN ('won', 'lost')),
    lost_reason    VARCHAR,
    value          DECIMAL(18, 2),            -- opportunity value
    CHECK (mql_at IS NULL OR mql_at >= created_at),
    CHECK (sal_at IS NULL OR (mql_at IS NOT NULL AND sal_at >= mql_at)),
    CHECK (rejected_at IS NULL OR (mql_at IS NOT NULL AND rejected_at >= mql_at AND sal_at IS NULL)),
    CHECK (opportunity_at IS NULL OR (sal_at IS NOT NULL AND opportunity_at >= sal_at)),
    CHECK (closed_at IS NULL OR (opportunity_at IS NOT NULL AND closed_at >= opportunity_at
                                 AND outcome IS NOT NULL))
);

-- One product line per order; region and category are copied from the customer and product so
-- that every filter is a column test.
CREATE TABLE orders (
    order_id     BIGINT PRIMARY KEY,
    order_date   DATE NOT NULL,
    customer_id  INTEGER NOT NULL REFERENCES customers (customer_id),
    product_id   INTEGER NOT NULL REFERENCES products (product_id),
    region_id    INTEGER NOT NULL REFERENCES regions (region_id),
    category_id  INTEGER NOT NULL REFERENCES categories (category_id),
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    amount       DECIMAL(18, 2) NOT NULL CHECK (amount >= 0),
    lead_id      BIGINT,                      -- set when the order closes a won lead
    promotion_id INTEGER,                     -- set when booked under a promotion
    rep_id       INTEGER REFERENCES people (person_id)
);

CREATE TABLE payments (
    payment_id BIGINT PRIMARY KEY,
    order_id   BIGINT NOT NULL REFERENCES orders (order_id),
    paid_on    DATE NOT NULL,
    amount     DECIMAL(18, 2) NOT NULL CHECK (amount > 0),
    method     VARCHAR NOT NULL DEFAULT 'transfer'
);

-- Monthly revenue targets, decomposed by region and category (目标分解). month = first day.
CREATE TABLE targets (
    month          DATE NOT NULL,
    region_id      INTEGER NOT NULL REFERENCES regions (region_id),
    category_id    INTEGER NOT NULL REFERENCES categories (category_id),
    revenue_target DECIMAL(18, 2) NOT NULL CHECK (revenue_target >= 0),
    PRIMARY KEY (month, region_id, category_id),
    CHECK (day(month) = 1)
);

-- Brand-awareness surveys: share of respondents aware of the brand, by region.
CREATE TABLE brand_surveys (
    survey_date   DATE NOT NULL,
    region_id     INTEGER NOT NULL REFERENCES regions (region_id),
    awareness_pct DOUBLE NOT NULL CHECK (awareness_pct BETWEEN 0 AND 100),
    sample_size   INTEGER NOT NULL CHECK (sample_size > 0),
    PRIMARY KEY (survey_date, region_id)
);

-- The effect built into demo data, so effect analysis (issue 4) can be checked against truth.
CREATE TABLE demo_promotion_truth (
    promotion_id INTEGER PRIMARY KEY REFERENCES promotions (promotion_id),
    uplift       DOUBLE NOT NULL                -- relative increase in order count, e.g. 0.25
);

CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
