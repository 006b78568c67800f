-- 004: quick entry for sales reps (issue 6). Every visit, order, payment or lead update a rep
-- saves is an entry: its idempotency key makes a resubmit save once, its payload is what was
-- entered, and entry_versions keeps every version, the original too when the author corrects it.
-- Codes (kind, purpose, outcome) are checked in mktsales/entries.py, not here: a CHECK cannot be
-- widened later without rebuilding the table.
-- No foreign keys between these tables and activities: DuckDB refuses to delete a child and its
-- parent in one transaction, and undoing a visit deletes both rows.

CREATE SEQUENCE entry_id_seq START 1;
CREATE TABLE entries (
    entry_id        BIGINT PRIMARY KEY DEFAULT nextval('entry_id_seq'),
    kind            VARCHAR NOT NULL,          -- visit, order, payment, lead_update
    idempotency_key VARCHAR NOT NULL UNIQUE,   -- one per form display: a resubmit saves once
    user_id         INTEGER NOT NULL,          -- the author (users.user_id)
    created_at      TIMESTAMP NOT NULL,
    target_id       BIGINT,                    -- activity_id / order_id / payment_id / lead_id
    status          VARCHAR NOT NULL DEFAULT 'saved' CHECK (status IN ('saved', 'undone')),
    version         INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),  -- bumped by each correction
    payload         JSON NOT NULL              -- what was entered, as saved (the current version)
);

-- Every version of every entry (version 1 is the original): a correction adds a row, never edits one.
CREATE TABLE entry_versions (
    entry_id   BIGINT NOT NULL,
    version    INTEGER NOT NULL,
    payload    JSON NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    changed_by INTEGER NOT NULL,               -- users.user_id: the author (only they may correct)
    PRIMARY KEY (entry_id, version)
);

-- A sales visit: the activities row (track 'sales', kind 'visit') carries date, region, category,
-- owner and advisor; this row carries what only a visit has.
CREATE TABLE visits (
    visit_id       BIGINT PRIMARY KEY,         -- = activities.activity_id
    customer_id    INTEGER NOT NULL REFERENCES customers (customer_id),
    purpose        VARCHAR NOT NULL,           -- introduce, follow_up, negotiate, ...
    outcome        VARCHAR NOT NULL,           -- positive, neutral, negative, order_taken
    note           VARCHAR NOT NULL DEFAULT '',
    next_step      VARCHAR NOT NULL DEFAULT '',
    next_step_date DATE
);
