-- A ticket's audit trail (`GET /api/v1/tickets/{id}/audit`): the entries
-- whose target is one ticket, newest first, keyset-paged by id.
--
-- No earlier index starts with the target, so without this the listing
-- walked the whole log backwards by id. Partial: only entries about tickets
-- (`target_type = 'ticket'`) are indexed, so logins, logouts and the other
-- frequent entries about users and sessions write no extra index page. The
-- store's query repeats the literal `target_type = 'ticket'`, which is what
-- lets SQLite use a partial index.

CREATE INDEX audit_log_ticket_idx ON audit_log (target_id, id)
    WHERE target_type = 'ticket';
