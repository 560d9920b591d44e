-- Fewer index writes per message.
--
-- Every message moves its ticket's `updated_at`, and every index holding
-- `updated_at` then deletes one entry and inserts another. 0001/0002 kept
-- it in six indexes. A transaction with one message costs ~25 pages of
-- write-ahead log, ~11 of them those index moves (measured by replaying the
-- schema: 24.7 -> 19.5 pages for one message, 33.2 -> 27.7 for four on four
-- tickets, with the three indexes below trimmed).
--
-- Kept in index order (no sort step): the default listing (updated_idx),
-- the status queues agents work from (status_idx) and an agent's own
-- tickets (assignee_idx). Trimmed to their filter column: a customer's
-- tickets (a handful, sorted in memory), and the category and priority
-- filters (rarer views, read by the filter and then sorted).

DROP INDEX tickets_customer_idx;
CREATE INDEX tickets_customer_idx ON tickets (customer_id);
DROP INDEX tickets_category_idx;
CREATE INDEX tickets_category_idx ON tickets (category_id);
DROP INDEX tickets_priority_idx;
CREATE INDEX tickets_priority_idx ON tickets (priority);
