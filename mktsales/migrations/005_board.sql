-- 005: the shared-information board (issue 5). Field reports go up from sales to marketing, plans
-- go down from marketing to sales; the other side acknowledges, replies and closes, and the time to
-- its first response is stored on the post when it happens, so response metrics are a column read.
-- Codes (direction, category, priority, outcome, kind, side) are checked in mktsales/board.py, not
-- here: a CHECK cannot be widened later without rebuilding the table.
-- No foreign keys point at posts: DuckDB refuses some updates of referenced rows, and a post is
-- updated on every answer. Authors and actors are stored three ways: the account (user_id, NULL
-- for demo data), the person (person_id, NULL for accounts without one) and the name at the time.

-- Response targets per category and priority; due_at is stored on each post when it is created,
-- so a later change of target does not rewrite history.
CREATE TABLE response_targets (
    direction VARCHAR NOT NULL,                -- field, plan
    category  VARCHAR NOT NULL,
    priority  VARCHAR NOT NULL,                -- normal, urgent
    hours     DOUBLE NOT NULL CHECK (hours > 0 AND hours <= 720),
    PRIMARY KEY (direction, category, priority)
);
INSERT INTO response_targets
SELECT direction, category, priority, CASE priority WHEN 'urgent' THEN 4 ELSE 24 END
FROM (VALUES
        ('field', 'shelf_display'), ('field', 'stocking'), ('field', 'pop_dm'), ('field', 'online'),
        ('field', 'terminal_sales'), ('field', 'promotion_feedback'), ('field', 'regional_sales'),
        ('field', 'competitor'), ('field', 'customer_feedback'),
        ('plan', 'promotion_plan'), ('plan', 'event_schedule'), ('plan', 'ad_placement'),
        ('plan', 'gift_material'), ('plan', 'targets'), ('plan', 'brand_plan')
     ) c(direction, category),
     (VALUES ('normal'), ('urgent')) p(priority);

CREATE SEQUENCE post_id_seq START 1;
CREATE TABLE posts (
    post_id          BIGINT PRIMARY KEY DEFAULT nextval('post_id_seq'),
    idempotency_key  VARCHAR UNIQUE,           -- one per form display; NULL for demo posts
    direction        VARCHAR NOT NULL,         -- field (sales -> marketing), plan (marketing -> sales)
    category         VARCHAR NOT NULL,
    priority         VARCHAR NOT NULL,
    title            VARCHAR NOT NULL,
    body             VARCHAR NOT NULL,
    author_user_id   INTEGER,
    author_person_id INTEGER,
    author_name      VARCHAR NOT NULL,
    customer_id      INTEGER,
    product_id       INTEGER,
    competitor       VARCHAR,
    promotion_id     INTEGER,
    needs_ack        BOOLEAN NOT NULL DEFAULT false,  -- a plan the sales heads must acknowledge
    created_at       TIMESTAMP NOT NULL,
    target_hours     DOUBLE NOT NULL,          -- the response target when it was posted
    due_at           TIMESTAMP NOT NULL,       -- created_at + target_hours
    first_response_at TIMESTAMP,               -- first acknowledgement, reply or close by the other side
    first_responder  VARCHAR,                  -- their name then
    first_responder_user_id INTEGER,
    first_responder_person_id INTEGER,
    closed_at        TIMESTAMP,                -- NULL while open (again, after a reopen)
    closed_by        VARCHAR,
    closed_by_user_id INTEGER,
    outcome          VARCHAR,                  -- acted, no_action, duplicate
    close_note       VARCHAR,
    last_activity_at TIMESTAMP NOT NULL,       -- for unread markers
    last_activity_user_id INTEGER,
    last_activity_person_id INTEGER,
    CHECK (due_at >= created_at),
    CHECK (first_response_at IS NULL OR first_response_at >= created_at)
);

-- The regions a post concerns: exactly one for a field report, one or more for a plan.
CREATE TABLE post_regions (
    post_id   BIGINT NOT NULL,
    region_id INTEGER NOT NULL REFERENCES regions (region_id),
    PRIMARY KEY (post_id, region_id)
);

-- The thread: replies, and the closes and reopens with their outcome and note.
CREATE SEQUENCE post_reply_id_seq START 1;
CREATE TABLE post_replies (
    reply_id        BIGINT PRIMARY KEY DEFAULT nextval('post_reply_id_seq'),
    post_id         BIGINT NOT NULL,
    kind            VARCHAR NOT NULL,          -- reply, close, reopen
    idempotency_key VARCHAR UNIQUE,            -- replies from a form; NULL otherwise
    user_id         INTEGER,
    person_id       INTEGER,
    name            VARCHAR NOT NULL,
    side            VARCHAR,                   -- sales, marketing; NULL for an admin
    body            VARCHAR NOT NULL DEFAULT '',
    outcome         VARCHAR,                   -- for a close
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX post_replies_post ON post_replies (post_id);

-- Acknowledgements: for a plan, one per addressed region by a sales head ("read and briefed").
CREATE TABLE post_acks (
    post_id   BIGINT NOT NULL,
    region_id INTEGER NOT NULL,
    user_id   INTEGER,
    person_id INTEGER,
    name      VARCHAR NOT NULL,
    acked_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (post_id, region_id)
);

-- Photos as stored: a re-encoded JPEG at most 1600 px on its longest side.
CREATE SEQUENCE post_photo_id_seq START 1;
CREATE TABLE post_photos (
    photo_id      BIGINT PRIMARY KEY DEFAULT nextval('post_photo_id_seq'),
    post_id       BIGINT NOT NULL,
    mime          VARCHAR NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    bytes         BLOB NOT NULL,
    original_name VARCHAR NOT NULL
);
CREATE INDEX post_photos_post ON post_photos (post_id);

-- When each user last opened each post (unread markers).
CREATE TABLE post_reads (
    post_id BIGINT NOT NULL,
    user_id INTEGER NOT NULL,
    read_at TIMESTAMP NOT NULL,
    PRIMARY KEY (post_id, user_id)
);
