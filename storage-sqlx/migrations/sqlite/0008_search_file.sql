-- The full-text index moves out of the chat database, into a file of its
-- own beside it (`<database>-search`, see `search/mod.rs`).
--
-- An FTS5 index merges its segments as they pile up; after a burst of
-- messages one merge step held SQLite's write lock for 7-16 ms, and every
-- group commit queued behind it waited that long: the 99th percentile of
-- the relay latency at 5,000 msgs/s went from 1.4-2.1 ms on a fresh store
-- to 4-5.5 ms after a burst (0007 bounded the steps but could not make them
-- shorter than a merge of the burst's large segments). In a file of its own
-- the index has a write lock of its own: indexing and merging never hold up
-- a commit of the chat.
--
-- The chat database keeps no queue and no triggers for it any more: the
-- index follows the messages and tickets by their storage positions (`pos`,
-- `number`, handed out in commit order and never reused: messages and
-- tickets are never deleted, erasure replaces their texts), remembering in
-- its own file how far it got. Every message then costs the chat's WAL no
-- queue row either.
--
-- What the chat database does keep is the erasure log: the search rows
-- (`pos`, `-number`) whose texts were erased, appended in the erasure's own
-- transaction. The index removes them from its file after the fact; a row
-- the index has not reached yet is never indexed. So an erasure needs no
-- second file to commit, and a crash between the two files loses nothing.

DROP TRIGGER messages_search_insert;
DROP TRIGGER messages_search_delete;
DROP TRIGGER tickets_search_insert;
DROP TRIGGER tickets_search_delete;
DROP TABLE search_queue;
DROP TABLE ticket_search;

CREATE TABLE search_erasures (
    -- Appended in order: the index's file remembers the last one it applied.
    seq INTEGER PRIMARY KEY,
    -- A search row: a message's `pos`, or `-number` of a ticket's subject.
    key INTEGER NOT NULL UNIQUE
);

-- Texts erased before this migration were already out of the old index;
-- keep them out of the new one (core's placeholder, `ERASED_PLACEHOLDER`).
INSERT OR IGNORE INTO search_erasures (key)
    SELECT pos FROM messages WHERE body = '[erased]';
INSERT OR IGNORE INTO search_erasures (key)
    SELECT -number FROM tickets WHERE subject = '[erased]';
