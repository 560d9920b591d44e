-- NeuroChat schema for SQLite.
--
-- Representation (kept portable to PostgreSQL / SQL Server):
--   * ids: TEXT, hyphenated lower-case UUIDs (byte order = text order, so
--     keyset pages "by id" work on the text);
--   * timestamps: INTEGER unix milliseconds (UTC);
--   * enums: TEXT, the stable `as_str()` names from neurochat-core;
--   * booleans: INTEGER 0/1;  secret hashes: BLOB.
--
-- Unique constraint names reported by the store (StoreError::UniqueViolation):
--   users.email (users_email_normalized_key), users.external_id
--   (users_external_id_key), categories.name (categories_name_key_key), and
--   "<table>.id" for a duplicate primary key.

CREATE TABLE users (
    id                TEXT    NOT NULL PRIMARY KEY,
    email             TEXT,
    email_normalized  TEXT,
    display_name      TEXT    NOT NULL,
    -- display_name lower-cased in Rust (Unicode-aware; SQLite's lower() only
    -- folds ASCII); used by the admin search.
    display_name_key  TEXT    NOT NULL,
    password_hash     TEXT,
    role              TEXT    NOT NULL,
    disabled          INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    external_id       TEXT,
    verified          INTEGER NOT NULL CHECK (verified IN (0, 1)),
    contact_email     TEXT,
    availability      TEXT    NOT NULL,
    capacity          INTEGER NOT NULL CHECK (capacity >= 0),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    version           INTEGER NOT NULL
);
-- NULLs are distinct in SQLite unique indexes: many users without an email
-- or external id are fine.
CREATE UNIQUE INDEX users_email_normalized_key ON users (email_normalized);
CREATE UNIQUE INDEX users_external_id_key ON users (external_id);
CREATE INDEX users_role_idx ON users (role);

CREATE TABLE sessions (
    id             TEXT    NOT NULL PRIMARY KEY,
    user_id        TEXT    NOT NULL REFERENCES users (id),
    kind           TEXT    NOT NULL,
    secret_hash    BLOB,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    revoke_reason  TEXT
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE refresh_tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    session_id   TEXT    NOT NULL REFERENCES sessions (id),
    user_id      TEXT    NOT NULL REFERENCES users (id),
    secret_hash  BLOB    NOT NULL,
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    rotated_at   INTEGER
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

CREATE TABLE reset_tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id),
    secret_hash  BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX reset_tokens_user_id_idx ON reset_tokens (user_id);
CREATE INDEX reset_tokens_expires_at_idx ON reset_tokens (expires_at);

-- The audit log outlives users: actor_id deliberately has no foreign key.
CREATE TABLE audit_log (
    id           TEXT    NOT NULL PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor_id     TEXT,
    action       TEXT    NOT NULL,
    target_type  TEXT,
    target_id    TEXT,
    source_ip    TEXT,
    detail       TEXT
);
CREATE INDEX audit_log_actor_id_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE TABLE categories (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    -- name lower-cased in Rust: the case-insensitive unique key and sort key.
    name_key    TEXT    NOT NULL,
    archived    INTEGER NOT NULL CHECK (archived IN (0, 1)),
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX categories_name_key_key ON categories (name_key);

-- Named counters incremented inside the transaction that uses them; a value
-- is never handed out twice (a rolled-back increment is simply not stored).
CREATE TABLE counters (
    name   TEXT    NOT NULL PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('ticket_number', 0);

CREATE TABLE tickets (
    id                 TEXT    NOT NULL PRIMARY KEY,
    number             INTEGER NOT NULL,
    subject            TEXT    NOT NULL,
    customer_id        TEXT    NOT NULL REFERENCES users (id),
    category_id        TEXT             REFERENCES categories (id),
    priority           TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    assignee_id        TEXT             REFERENCES users (id),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    first_response_at  INTEGER,
    resolved_at        INTEGER,
    last_seq           INTEGER NOT NULL,
    version            INTEGER NOT NULL
);
CREATE UNIQUE INDEX tickets_number_key ON tickets (number);
CREATE INDEX tickets_customer_idx ON tickets (customer_id, updated_at, id);
CREATE INDEX tickets_assignee_idx ON tickets (assignee_id, updated_at, id);
CREATE INDEX tickets_status_idx ON tickets (status, updated_at, id);
CREATE INDEX tickets_updated_idx ON tickets (updated_at, id);
CREATE INDEX tickets_category_idx ON tickets (category_id);

CREATE TABLE messages (
    id             TEXT    NOT NULL PRIMARY KEY,
    ticket_id      TEXT    NOT NULL REFERENCES tickets (id),
    seq            INTEGER NOT NULL CHECK (seq >= 1),
    author_id      TEXT             REFERENCES users (id),
    kind           TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    client_msg_id  TEXT,
    created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX messages_ticket_seq_key ON messages (ticket_id, seq);
CREATE UNIQUE INDEX messages_client_msg_key ON messages (ticket_id, author_id, client_msg_id);
-- NULLs are distinct in the index above, so system messages (author_id NULL)
-- get their own idempotency index.
CREATE UNIQUE INDEX messages_system_client_msg_key ON messages (ticket_id, client_msg_id)
    WHERE author_id IS NULL AND client_msg_id IS NOT NULL;

CREATE TABLE outbox (
    id               TEXT    NOT NULL PRIMARY KEY,
    recipient        TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    sent_at          INTEGER
);
CREATE INDEX outbox_due_idx ON outbox (sent_at, next_attempt_at);
