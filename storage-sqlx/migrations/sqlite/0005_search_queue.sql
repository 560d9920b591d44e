-- Search indexing off the commit path, and no author index on customer
-- messages.
--
-- Replaying the schema (100 tickets, 5 customer messages per transaction on
-- 5 tickets, 20,000 messages already stored) gave 45.5 write-ahead-log pages
-- per transaction; 6-7 of them were the full-text index (FTS5 writes a new
-- segment per transaction and merges segments as they pile up), and it took
-- about a third of SQLite's CPU time per message. Another ~7 were
-- `messages_author_idx`, one leaf per author.
--
-- - Search rows: the insert triggers only queue the new row's key in
--   `search_queue` (an append). The group-commit writer indexes queued rows
--   in small transactions when no write is waiting, and a text search first
--   indexes whatever is still queued, so a search still finds every message
--   committed before it. Erasure deletes queued keys with their rows.
-- - The author index holds staff messages only: a customer writes only in
--   their own tickets, whose customer never changes, so erasure finds a
--   customer's messages through `tickets_customer_idx` and the ticket's
--   messages.
--
-- Replayed: 45.5 -> 32.7 pages per transaction, with the queued rows
-- indexed 64 at a time.

CREATE TABLE search_queue (
    -- A `ticket_search` rowid: a message's `pos`, or `-number` of a ticket.
    key INTEGER PRIMARY KEY
);

DROP TRIGGER messages_search_insert;
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT OR REPLACE INTO search_queue (key) VALUES (new.pos);
END;
DROP TRIGGER messages_search_delete;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM ticket_search WHERE rowid = old.pos;
    DELETE FROM search_queue WHERE key = old.pos;
END;
DROP TRIGGER tickets_search_insert;
CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN
    INSERT OR REPLACE INTO search_queue (key) VALUES (-new.number);
END;
DROP TRIGGER tickets_search_delete;
CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets BEGIN
    DELETE FROM ticket_search WHERE rowid = -old.number;
    DELETE FROM search_queue WHERE key = -old.number;
END;

DROP INDEX messages_author_idx;
CREATE INDEX messages_staff_author_idx ON messages (author_id) WHERE kind <> 'customer';
