-- Accounts, sessions and the audit trail (issue 7).
-- No foreign keys point at users: DuckDB refuses some updates of referenced rows, and accounts are
-- deactivated, never deleted, so the references stay valid anyway.

CREATE SEQUENCE user_id_seq START 1;
CREATE TABLE users (
    user_id INTEGER PRIMARY KEY DEFAULT nextval('user_id_seq'),
    username VARCHAR NOT NULL UNIQUE,          -- stored lower-case
    display_name VARCHAR NOT NULL,
    email VARCHAR,                             -- matched case-insensitively for single sign-on
    role VARCHAR NOT NULL CHECK (role IN
        ('executive', 'marketing_head', 'sales_head', 'marketing_staff', 'sales_rep', 'admin')),
    all_regions BOOLEAN NOT NULL DEFAULT false,
    person_id INTEGER,                         -- the person in people, for reps and heads
    password_hash VARCHAR,                     -- argon2id; NULL = single sign-on only
    active BOOLEAN NOT NULL DEFAULT true,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    demo BOOLEAN NOT NULL DEFAULT false,       -- a demo account with a published password
    created_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    password_changed_at TIMESTAMP
);

CREATE TABLE user_regions (
    user_id INTEGER NOT NULL,
    region_id INTEGER NOT NULL REFERENCES regions (region_id),
    PRIMARY KEY (user_id, region_id)
);

-- A browser's sign-in: the cookie holds a random token, the database only its SHA-256.
CREATE TABLE sessions (
    token_hash VARCHAR PRIMARY KEY,
    user_id INTEGER NOT NULL,
    method VARCHAR NOT NULL CHECK (method IN ('password', 'sso')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE SEQUENCE audit_id_seq START 1;
CREATE TABLE audit_log (
    audit_id BIGINT PRIMARY KEY DEFAULT nextval('audit_id_seq'),
    logged_at TIMESTAMP NOT NULL,
    user_id INTEGER,                           -- NULL for the system and the command line
    actor VARCHAR NOT NULL,                    -- username, 'system:demo', 'cli:<os user>'
    entity VARCHAR NOT NULL,                   -- the table changed
    entity_id VARCHAR,
    action VARCHAR NOT NULL,
    before JSON,
    after JSON
);
