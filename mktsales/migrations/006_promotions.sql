-- 006: the life of a promotion (issue 4): plan details, owners, consultation, the workflow's
-- events and execution reports.
--
-- Status and the other plan columns stay in `promotions` (001) and are changed there by plain
-- UPDATEs: measured on DuckDB 2.0.1, an UPDATE of a column that is not a foreign key (status,
-- decided_at, budget, dates, titles, kind) works while promotion_regions, demo_promotion_truth
-- and activities reference the row. An UPDATE of a foreign-key column (owner_id, category_id) is
-- refused even after the referencing rows are deleted in the same transaction, so the current
-- overall owner lives in promotion_owners (promotions.owner_id keeps the owner at creation) and
-- a promotion's category is fixed once it exists.
-- Codes (mechanics, channels, answers, kinds, deviations) are checked in mktsales/promotions.py,
-- not by CHECKs here: a CHECK cannot be widened later without rebuilding the table.
-- User ids are users.user_id without a foreign key (see 002); names are kept as snapshots.

-- The plan beyond 001's columns, one row per promotion (drafted or requested in the app, or demo).
CREATE TABLE promotion_plans (
    promotion_id            INTEGER PRIMARY KEY REFERENCES promotions (promotion_id),
    mechanics               VARCHAR[] NOT NULL,          -- discount, gift, display, pop_dm, event
    channels                VARCHAR[] NOT NULL,          -- customers.channel codes
    goal_revenue            DECIMAL(18, 2),              -- expected incremental revenue
    monitoring_plan         VARCHAR NOT NULL DEFAULT '',  -- what will be checked during execution
    description             VARCHAR NOT NULL DEFAULT '',
    budget_approved         BOOLEAN NOT NULL DEFAULT false,
    budget_approved_by      INTEGER,                     -- users.user_id (NULL for demo people)
    budget_approved_by_name VARCHAR,
    budget_approved_at      TIMESTAMP,
    request_reason          VARCHAR,                     -- sales requests: competitor_move, ...
    request_reason_text     VARCHAR NOT NULL DEFAULT '',
    expected_effect         VARCHAR NOT NULL DEFAULT '',
    budget_asked            DECIMAL(18, 2),
    requested_region_ids    INTEGER[] NOT NULL,          -- a request's own regions count as consulted
    created_by              INTEGER,                     -- users.user_id
    created_by_person       INTEGER,                     -- people.person_id
    created_by_name         VARCHAR NOT NULL,
    created_at              TIMESTAMP NOT NULL,
    idempotency_key         VARCHAR UNIQUE               -- the form display that created it
);

CREATE TABLE promotion_products (
    promotion_id INTEGER NOT NULL REFERENCES promotions (promotion_id),
    product_id   INTEGER NOT NULL REFERENCES products (product_id),
    PRIMARY KEY (promotion_id, product_id)
);

-- 项目负责制: one overall owner (region_id NULL) and a named owner per touched region.
CREATE TABLE promotion_owners (
    promotion_id INTEGER NOT NULL REFERENCES promotions (promotion_id),
    part         VARCHAR NOT NULL,                -- 'overall' or 'region'
    region_id    INTEGER REFERENCES regions (region_id),
    person_id    INTEGER NOT NULL REFERENCES people (person_id),
    user_id      INTEGER,                         -- the person's account, when there is one
    name         VARCHAR NOT NULL                 -- the person's name when named
);

-- Consultation: when each region's sales head was asked (a new row each time it is asked again)...
CREATE TABLE promotion_consult_asks (
    promotion_id INTEGER NOT NULL REFERENCES promotions (promotion_id),
    region_id    INTEGER NOT NULL REFERENCES regions (region_id),
    asked_at     TIMESTAMP NOT NULL,
    asked_by     INTEGER,                         -- users.user_id
    asked_by_name VARCHAR NOT NULL
);

-- ... and every answer, as a log: a region's position is its latest agree or concern.
CREATE SEQUENCE consultation_id_seq START 1;
CREATE TABLE promotion_consultations (
    consultation_id BIGINT PRIMARY KEY DEFAULT nextval('consultation_id_seq'),
    promotion_id    INTEGER NOT NULL REFERENCES promotions (promotion_id),
    region_id       INTEGER NOT NULL REFERENCES regions (region_id),
    answer          VARCHAR NOT NULL,             -- agree, concern, comment
    text            VARCHAR NOT NULL DEFAULT '',
    by_user         INTEGER,                      -- users.user_id
    by_person       INTEGER,                      -- people.person_id
    by_name         VARCHAR NOT NULL,
    answered_at     TIMESTAMP NOT NULL
);

-- Every transition: who, when, from, to, why. from_status NULL = created.
CREATE SEQUENCE promotion_event_id_seq START 1;
CREATE TABLE promotion_events (
    event_id     BIGINT PRIMARY KEY DEFAULT nextval('promotion_event_id_seq'),
    promotion_id INTEGER NOT NULL REFERENCES promotions (promotion_id),
    from_status  VARCHAR,
    to_status    VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL DEFAULT '',
    by_user      INTEGER,                         -- users.user_id
    by_person    INTEGER,
    by_name      VARCHAR NOT NULL,
    event_at     TIMESTAMP NOT NULL
);

-- Execution feedback while live: status reports (as planned? what deviated?) and effect reports
-- (sell-through, customer reaction, competitor response), from sales or marketing inspections.
CREATE SEQUENCE execution_report_id_seq START 1;
CREATE TABLE execution_reports (
    report_id           BIGINT PRIMARY KEY DEFAULT nextval('execution_report_id_seq'),
    promotion_id        INTEGER NOT NULL REFERENCES promotions (promotion_id),
    region_id           INTEGER NOT NULL REFERENCES regions (region_id),
    customer_id         INTEGER REFERENCES customers (customer_id),  -- the store, if one
    kind                VARCHAR NOT NULL,         -- status, effect
    source              VARCHAR NOT NULL,         -- sales, marketing (inspection)
    as_planned          BOOLEAN,                  -- status reports
    deviations          VARCHAR[] NOT NULL,       -- price, display, pop_dm, stock, timing
    note                VARCHAR NOT NULL DEFAULT '',
    sell_through_pct    DOUBLE,                   -- effect reports
    customer_reaction   VARCHAR,                  -- positive, neutral, negative
    competitor_response VARCHAR NOT NULL DEFAULT '',
    photo_mime          VARCHAR,
    photo_width         INTEGER,
    photo_height        INTEGER,
    photo               BLOB,
    by_user             INTEGER,                  -- users.user_id
    by_person           INTEGER,                  -- people.person_id
    by_name             VARCHAR NOT NULL,
    reported_at         TIMESTAMP NOT NULL,
    idempotency_key     VARCHAR NOT NULL UNIQUE
);

-- Where consultation stands, per touched region: when it was last asked, whether it has answered
-- (a sales request's own regions count as consulted by the request), its position (the latest
-- agree or concern) and its latest answer of any kind.
CREATE VIEW promotion_consultation_status AS
WITH touched AS (
    SELECT r.promotion_id, r.region_id,
           coalesce(list_contains(p.requested_region_ids, r.region_id), false) AS by_request
    FROM promotion_regions r LEFT JOIN promotion_plans p USING (promotion_id)
),
asked AS (
    SELECT promotion_id, region_id, max(asked_at) AS asked_at
    FROM promotion_consult_asks GROUP BY ALL
),
answers AS (
    SELECT promotion_id, region_id, count(*) AS answers,
           arg_max(answer, consultation_id) FILTER (WHERE answer IN ('agree', 'concern')) AS position,
           arg_max(answer, consultation_id) AS last_answer,
           arg_max(text, consultation_id) AS last_text,
           arg_max(by_name, consultation_id) AS last_by_name,
           max(answered_at) AS last_at
    FROM promotion_consultations GROUP BY ALL
)
SELECT t.promotion_id, t.region_id, t.by_request, a.asked_at, coalesce(n.answers, 0) AS answers,
       n.position, n.last_answer, n.last_text, n.last_by_name, n.last_at,
       t.by_request OR coalesce(n.answers, 0) > 0 AS answered
FROM touched t
LEFT JOIN asked a USING (promotion_id, region_id)
LEFT JOIN answers n USING (promotion_id, region_id);

-- The overall owner: the latest named in promotion_owners, else the owner at creation.
CREATE VIEW promotion_overall_owner AS
SELECT p.promotion_id, coalesce(o.person_id, p.owner_id) AS person_id,
       coalesce(o.name, pe.name) AS name, o.user_id
FROM promotions p
LEFT JOIN (SELECT promotion_id, any_value(person_id) AS person_id, any_value(name) AS name,
                  any_value(user_id) AS user_id
           FROM promotion_owners WHERE part = 'overall' GROUP BY ALL) o USING (promotion_id)
LEFT JOIN people pe ON pe.person_id = p.owner_id;

-- "Mature one, execute one": the readiness checklist of every promotion, item by item, in the
-- order consulted, owners, budget, monitoring; ``missing`` lists the items that do not hold.
CREATE VIEW promotion_readiness AS
WITH consulted AS (
    SELECT promotion_id, count(*) AS consult_total, count(*) FILTER (WHERE answered) AS consulted,
           coalesce(list(region_id ORDER BY region_id) FILTER (WHERE NOT answered), []) AS unconsulted
    FROM promotion_consultation_status GROUP BY ALL
),
owned AS (
    SELECT r.promotion_id,
           coalesce(list(r.region_id ORDER BY r.region_id) FILTER (WHERE o.region_id IS NULL), [])
               AS owners_missing
    FROM promotion_regions r
    LEFT JOIN (SELECT DISTINCT promotion_id, region_id FROM promotion_owners WHERE part = 'region') o
        USING (promotion_id, region_id)
    GROUP BY ALL
),
items AS (
    SELECT p.promotion_id, coalesce(c.consult_total, 0) AS consult_total,
           coalesce(c.consulted, 0) AS consulted, coalesce(c.unconsulted, []) AS unconsulted,
           o.person_id IS NOT NULL AS has_overall_owner, coalesce(w.owners_missing, []) AS owners_missing,
           p.budget, coalesce(pl.budget_approved, false) AS budget_approved,
           coalesce(pl.monitoring_plan, '') AS monitoring_plan
    FROM promotions p
    LEFT JOIN consulted c USING (promotion_id)
    LEFT JOIN owned w USING (promotion_id)
    LEFT JOIN promotion_overall_owner o USING (promotion_id)
    LEFT JOIN promotion_plans pl USING (promotion_id)
),
checked AS (
    SELECT *,
           consult_total > 0 AND len(unconsulted) = 0 AS consulted_ok,
           has_overall_owner AND len(owners_missing) = 0 AS owners_ok,
           budget > 0 AND budget_approved AS budget_ok,
           length(trim(monitoring_plan)) > 0 AS monitoring_ok
    FROM items
)
SELECT promotion_id, consult_total, consulted, unconsulted, has_overall_owner, owners_missing,
       CAST(budget AS DOUBLE) AS budget, budget_approved, consulted_ok, owners_ok, budget_ok, monitoring_ok,
       consulted_ok AND owners_ok AND budget_ok AND monitoring_ok AS ready,
       list_concat(CASE WHEN consulted_ok THEN []::VARCHAR[] ELSE ['consulted'] END,
                   CASE WHEN owners_ok THEN []::VARCHAR[] ELSE ['owners'] END,
                   CASE WHEN budget_ok THEN []::VARCHAR[] ELSE ['budget'] END,
                   CASE WHEN monitoring_ok THEN []::VARCHAR[] ELSE ['monitoring'] END) AS missing
FROM checked;
