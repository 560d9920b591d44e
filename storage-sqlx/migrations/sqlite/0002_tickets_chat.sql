-- Tickets and chat: the store-maintained message fields of a ticket, the
-- escalation/notification bookkeeping, read receipts, full-text search, and
-- an index for every ticket filter and sort order.
--
-- Applies on top of 0001 with data in it: new columns get values derived
-- from the stored messages (see the backfill below), and every existing
-- subject and message is added to the search index.

-- ------------------------------------------------------------ ticket columns

ALTER TABLE tickets ADD COLUMN closed_at INTEGER;
-- Oldest customer message no agent has answered yet (NULL: answered).
ALTER TABLE tickets ADD COLUMN awaiting_since INTEGER;
-- seq of the newest agent message (0: none).
ALTER TABLE tickets ADD COLUMN last_agent_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN last_agent_message_at INTEGER;
-- Highest agent seq the customer has been emailed about.
ALTER TABLE tickets ADD COLUMN customer_notified_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN escalated_new_at INTEGER;
ALTER TABLE tickets ADD COLUMN escalated_awaiting_since INTEGER;
-- Priority::rank (low 0 … urgent 3), the PriorityDesc sort key. A virtual
-- generated column: computed from `priority`, so it can never drift, and
-- indexable like a stored one (only the index below stores it).
ALTER TABLE tickets ADD COLUMN priority_rank INTEGER
    GENERATED ALWAYS AS (CASE priority
        WHEN 'low' THEN 0 WHEN 'normal' THEN 1 WHEN 'high' THEN 2 WHEN 'urgent' THEN 3
    END) VIRTUAL;

-- Backfill from the messages already stored, as if every one of them had
-- gone through the 0002 insert effects:
UPDATE tickets SET last_agent_seq = COALESCE(
    (SELECT MAX(m.seq) FROM messages m WHERE m.ticket_id = tickets.id AND m.kind = 'agent'), 0);
UPDATE tickets SET
    last_agent_message_at = (SELECT m.created_at FROM messages m
        WHERE m.ticket_id = tickets.id AND m.seq = tickets.last_agent_seq),
    awaiting_since = (SELECT m.created_at FROM messages m
        WHERE m.ticket_id = tickets.id AND m.kind = 'customer' AND m.seq > tickets.last_agent_seq
        ORDER BY m.seq LIMIT 1),
    -- Replies sent before this migration count as notified: no email burst
    -- about old replies on upgrade.
    customer_notified_seq = last_agent_seq;
-- 0001 did not record when a ticket was closed: its last change is the best guess.
UPDATE tickets SET closed_at = updated_at WHERE status = 'closed';

-- ------------------------------------------------------------ ticket indexes
-- Every TicketFilter field and every TicketSort has an index (the
-- sqlite_specific tests check the plans). 0001 already has
-- tickets_customer_idx (customer_id, updated_at, id), tickets_assignee_idx
-- (assignee_id, updated_at, id) — also used for `assignee_id IS NULL` —,
-- tickets_status_idx (status, updated_at, id) and tickets_updated_idx
-- (updated_at, id).

DROP INDEX tickets_category_idx;
CREATE INDEX tickets_category_idx ON tickets (category_id, updated_at, id);
CREATE INDEX tickets_priority_idx ON tickets (priority, updated_at, id);
CREATE INDEX tickets_created_idx ON tickets (created_at, id);
CREATE INDEX tickets_priority_rank_idx ON tickets (priority_rank, id);
-- list_tickets_in_window (resolved in a window).
CREATE INDEX tickets_resolved_at_idx ON tickets (resolved_at);
-- list_agent_loads: counts open tickets per assignee from the index alone.
CREATE INDEX tickets_open_assignee_idx ON tickets (assignee_id, status)
    WHERE status IN ('new', 'in_progress');
-- The background jobs read small partial indexes holding exactly their
-- candidates, so their cost does not grow with the number of old tickets.
CREATE INDEX tickets_escalate_new_idx ON tickets (created_at, id)
    WHERE status = 'new' AND escalated_new_at IS NULL;
CREATE INDEX tickets_escalate_awaiting_idx ON tickets (awaiting_since)
    WHERE status IN ('new', 'in_progress') AND escalated_awaiting_since IS NOT awaiting_since;
CREATE INDEX tickets_to_close_idx ON tickets (resolved_at, id)
    WHERE status = 'resolved';
CREATE INDEX tickets_notify_idx ON tickets (last_agent_message_at, id)
    WHERE status <> 'closed' AND last_agent_seq > customer_notified_seq;

-- Erasure finds a user's messages by author.
CREATE INDEX messages_author_idx ON messages (author_id);
-- Opening a ticket is idempotent per author and first-message client_msg_id
-- (StoreError::UniqueViolation `tickets.first_message`). Checked by the store
-- inside its write transaction, which SQLite serialises; not a UNIQUE index,
-- because files written by 0001 may already hold such duplicates and the
-- migration must not fail on them.
CREATE INDEX messages_first_message_idx ON messages (author_id, client_msg_id)
    WHERE seq = 1 AND client_msg_id IS NOT NULL;
-- count_audit_by_actor reads (action, time window) from the index alone.
CREATE INDEX audit_log_action_at_idx ON audit_log (action, at, actor_id);

-- ------------------------------------------------------------ receipts

CREATE TABLE receipts (
    ticket_id      TEXT    NOT NULL REFERENCES tickets (id),
    user_id        TEXT    NOT NULL REFERENCES users (id),
    delivered_seq  INTEGER NOT NULL CHECK (delivered_seq >= 0),
    read_seq       INTEGER NOT NULL CHECK (read_seq >= 0),
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, user_id)
);

-- ------------------------------------------------------------ text search
-- One row per ticket subject (kind 'subject') and one per message (kind =
-- the message kind), written in the same transaction as the ticket or
-- message, removed on erasure. The rowid is derived from immutable keys so a
-- row can be found without scanning: number * 2^32 + seq for a message, and
-- number * 2^32 (seq 0) for the subject. That holds for ticket numbers below
-- 2^31 and up to 2^32 - 1 messages per ticket.
-- unicode61 with remove_diacritics 2: case- and accent-insensitive words.

CREATE VIRTUAL TABLE ticket_search USING fts5 (
    ticket_id UNINDEXED,
    kind UNINDEXED,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO ticket_search (rowid, ticket_id, kind, body)
    SELECT number * 4294967296, id, 'subject', subject FROM tickets;
INSERT INTO ticket_search (rowid, ticket_id, kind, body)
    SELECT t.number * 4294967296 + m.seq, m.ticket_id, m.kind, m.body
    FROM messages m JOIN tickets t ON t.id = m.ticket_id;
