-- Cheaper text search writes.
--
-- 0002 keyed the search rows by number * 2^32 + seq and stored a copy of
-- every text in the index. A transaction that adds one message to each of
-- many tickets then changed one page of the index's content table and one
-- of its size table per ticket (their rows cluster by ticket), about two of
-- the six pages a message cost in the write-ahead log.
--
-- Now messages have a storage position (`pos`, an INTEGER PRIMARY KEY, so
-- VACUUM keeps it), handed out in insert order, and the index is keyed by
-- it: its rows are appended, never scattered. The index keeps no copy of
-- the texts (contentless, with delete support): search reads the ticket and
-- the message kind from `messages`. Subjects are keyed by -number.
--
-- Triggers keep the index in step with every insert and delete, so no write
-- path can forget it. Text updates happen only on erasure, which removes the
-- rows itself before replacing the texts (the placeholder is not indexed).

CREATE TABLE messages_0003 (
    pos            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    ticket_id      TEXT    NOT NULL REFERENCES tickets (id),
    seq            INTEGER NOT NULL CHECK (seq >= 1),
    author_id      TEXT             REFERENCES users (id),
    kind           TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    client_msg_id  TEXT,
    created_at     INTEGER NOT NULL
);
INSERT INTO messages_0003 (id, ticket_id, seq, author_id, kind, body, client_msg_id, created_at)
    SELECT id, ticket_id, seq, author_id, kind, body, client_msg_id, created_at
    FROM messages ORDER BY rowid;
DROP TABLE messages;
ALTER TABLE messages_0003 RENAME TO messages;

CREATE UNIQUE INDEX messages_ticket_seq_key ON messages (ticket_id, seq);
CREATE UNIQUE INDEX messages_client_msg_key ON messages (ticket_id, author_id, client_msg_id);
-- NULLs are distinct in the index above, so system messages (author_id NULL)
-- get their own idempotency index.
CREATE UNIQUE INDEX messages_system_client_msg_key ON messages (ticket_id, client_msg_id)
    WHERE author_id IS NULL AND client_msg_id IS NOT NULL;
-- Erasure finds a user's messages by author.
CREATE INDEX messages_author_idx ON messages (author_id);
-- Opening a ticket is idempotent per author and first-message client_msg_id
-- (see 0002: checked by the store, not a UNIQUE index).
CREATE INDEX messages_first_message_idx ON messages (author_id, client_msg_id)
    WHERE seq = 1 AND client_msg_id IS NOT NULL;

DROP TABLE ticket_search;
-- unicode61 with remove_diacritics 2: case- and accent-insensitive words.
CREATE VIRTUAL TABLE ticket_search USING fts5 (
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO ticket_search (rowid, body) SELECT -number, subject FROM tickets;
INSERT INTO ticket_search (rowid, body) SELECT pos, body FROM messages;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO ticket_search (rowid, body) VALUES (new.pos, new.body);
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM ticket_search WHERE rowid = old.pos;
END;
CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_search (rowid, body) VALUES (-new.number, new.subject);
END;
CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets BEGIN
    DELETE FROM ticket_search WHERE rowid = -old.number;
END;
