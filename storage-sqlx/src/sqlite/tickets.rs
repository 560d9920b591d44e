//! [`TicketStore`] on SQLite.

use async_trait::async_trait;
use neurochat_core::domain::{
    AssigneeFilter, Message, MessageKind, NewMessage, OutboxMessage, Priority, Ticket,
    TicketFilter, TicketId, TicketSort, TicketStatus, UserId,
};
use neurochat_core::ports::{StoreError, StoreResult, TicketStore};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use time::OffsetDateTime;

use super::cols::Cols;
use super::fetch_one;
use super::messages::{insert_message_row, message_cols, message_from_row};
use super::outbox::insert_outbox_with;
use super::search::{fts_query, match_tickets_sql};
use super::{SqliteStore, commit, db_err};
use crate::common::{
    from_ms, from_ms_opt, id_text, id_text_opt, parse_enum, parse_id, parse_id_opt, ts, ts_opt,
};

/// The column list every ticket query selects, in [`ticket_from_row`]'s terms.
macro_rules! ticket_cols {
    () => {
        "id, number, subject, customer_id, category_id, priority, status, assignee_id, \
         created_at, updated_at, first_response_at, resolved_at, closed_at, last_seq, \
         awaiting_since, last_agent_seq, last_agent_message_at, customer_notified_seq, \
         escalated_new_at, escalated_awaiting_since, version"
    };
}
pub(super) use ticket_cols;

/// Reads a row selected with [`ticket_cols!`].
pub(super) fn ticket_from_row(r: &impl Cols) -> StoreResult<Ticket> {
    // Positions in `ticket_cols!`.
    let opt_ts = |i: usize, column: &'static str| -> StoreResult<Option<OffsetDateTime>> {
        from_ms_opt(column, r.opt_int(i, column)?)
    };
    Ok(Ticket {
        id: parse_id("tickets.id", r.text(0, "id")?)?,
        number: r.int(1, "number")?,
        subject: r.text(2, "subject")?.to_owned(),
        customer_id: parse_id("tickets.customer_id", r.text(3, "customer_id")?)?,
        category_id: parse_id_opt("tickets.category_id", r.opt_text(4, "category_id")?)?,
        priority: parse_enum("tickets.priority", r.text(5, "priority")?, Priority::parse)?,
        status: parse_enum("tickets.status", r.text(6, "status")?, TicketStatus::parse)?,
        assignee_id: parse_id_opt("tickets.assignee_id", r.opt_text(7, "assignee_id")?)?,
        created_at: from_ms("tickets.created_at", r.int(8, "created_at")?)?,
        updated_at: from_ms("tickets.updated_at", r.int(9, "updated_at")?)?,
        first_response_at: opt_ts(10, "first_response_at")?,
        resolved_at: opt_ts(11, "resolved_at")?,
        closed_at: opt_ts(12, "closed_at")?,
        last_seq: r.int(13, "last_seq")?,
        awaiting_since: opt_ts(14, "awaiting_since")?,
        last_agent_seq: r.int(15, "last_agent_seq")?,
        last_agent_message_at: opt_ts(16, "last_agent_message_at")?,
        customer_notified_seq: r.int(17, "customer_notified_seq")?,
        escalated_new_at: opt_ts(18, "escalated_new_at")?,
        escalated_awaiting_since: opt_ts(19, "escalated_awaiting_since")?,
        version: r.int(20, "version")?,
    })
}

/// The first message (seq 1) an author sent with a `client_msg_id`, on a
/// ticket other than the given one (the oldest if a 0001-era file holds
/// several). Binds author (`IS`: a NULL author matches system messages),
/// client_msg_id, ticket id. Reads messages_first_message_idx.
pub(super) const FIRST_MESSAGE_SQL: &str = concat!(
    "SELECT ",
    message_cols!(),
    " FROM messages WHERE author_id IS ? AND client_msg_id = ? AND seq = 1 \
     AND ticket_id <> ? ORDER BY created_at, id LIMIT 1"
);

/// `list_escalation_candidates`: binds new_before, awaiting_before, limit.
pub(super) const ESCALATION_SQL: &str = concat!(
    "SELECT ",
    ticket_cols!(),
    " FROM tickets INDEXED BY tickets_escalate_new_idx \
     WHERE status = 'new' AND escalated_new_at IS NULL \
     AND created_at <= ? \
     UNION SELECT ",
    ticket_cols!(),
    " FROM tickets INDEXED BY tickets_escalate_awaiting_idx \
     WHERE status IN ('new', 'in_progress') \
     AND escalated_awaiting_since IS NOT awaiting_since AND awaiting_since <= ? \
     ORDER BY created_at, id LIMIT ?"
);

/// `list_tickets_to_close`: binds resolved_before, limit.
pub(super) const TO_CLOSE_SQL: &str = concat!(
    "SELECT ",
    ticket_cols!(),
    " FROM tickets INDEXED BY tickets_to_close_idx \
     WHERE status = 'resolved' AND resolved_at <= ? \
     ORDER BY resolved_at, id LIMIT ?"
);

/// `list_notifications_due`: binds before, limit.
pub(super) const NOTIFICATIONS_DUE_SQL: &str = concat!(
    "SELECT ",
    ticket_cols!(),
    " FROM tickets INDEXED BY tickets_notify_idx \
     WHERE status <> 'closed' AND last_agent_seq > customer_notified_seq \
     AND last_agent_message_at <= ? \
     AND last_agent_seq > COALESCE((SELECT r.read_seq FROM receipts r \
         WHERE r.ticket_id = tickets.id AND r.user_id = tickets.customer_id), 0) \
     ORDER BY last_agent_message_at, id LIMIT ?"
);

/// `list_tickets_in_window`: binds from, to, from, to.
pub(super) const IN_WINDOW_SQL: &str = concat!(
    "SELECT ",
    ticket_cols!(),
    " FROM tickets WHERE (created_at >= ? AND created_at < ?) \
     OR (resolved_at >= ? AND resolved_at < ?) \
     ORDER BY created_at, id"
);

/// Applies the effects of storing `message` (already given its `seq`) to its
/// ticket, as `MessageStore::insert_message` documents them. `insert_message`
/// applies the same effects in SQL (`messages.rs`); this is the first message's.
pub(super) fn apply_message_effects(ticket: &mut Ticket, message: &Message) {
    apply_effects(ticket, message.kind, message.seq, message.created_at);
}

/// The effects of a message of `kind` with `seq`, created `at`, on its ticket
/// (see [`apply_message_effects`]); the group-commit writer plans a batch's
/// ticket changes with it (`group_commit/plan.rs`).
pub(super) fn apply_effects(ticket: &mut Ticket, kind: MessageKind, seq: i64, at: OffsetDateTime) {
    ticket.last_seq = seq;
    ticket.updated_at = at;
    match kind {
        MessageKind::Customer => {
            ticket.awaiting_since = ticket.awaiting_since.or(Some(at));
            if ticket.status == TicketStatus::Resolved {
                ticket.status = if ticket.assignee_id.is_some() {
                    TicketStatus::InProgress
                } else {
                    TicketStatus::New
                };
                ticket.version += 1;
            }
        }
        MessageKind::Agent => {
            ticket.awaiting_since = None;
            ticket.first_response_at = ticket.first_response_at.or(Some(at));
            ticket.last_agent_seq = seq;
            ticket.last_agent_message_at = Some(at);
        }
        MessageKind::System | MessageKind::InternalNote => {}
    }
}

/// Runs a ticket query with the given binds already applied.
async fn fetch_tickets<'q>(
    q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>,
    pool: &sqlx::SqlitePool,
) -> StoreResult<Vec<Ticket>> {
    q.fetch_all(pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(ticket_from_row)
        .collect()
}

/// The `list_tickets` query for `filter`, after `prefix` (empty, or
/// `EXPLAIN QUERY PLAN `). Built from fixed fragments only; every value is
/// bound, so no caller text ever becomes SQL.
pub(super) fn list_query(filter: &TicketFilter, prefix: &'static str) -> QueryBuilder<Sqlite> {
    let mut q = QueryBuilder::<Sqlite>::new(prefix);
    q.push(concat!(
        "SELECT ",
        ticket_cols!(),
        " FROM tickets WHERE 1 = 1"
    ));
    if let Some(customer) = filter.customer_id {
        q.push(" AND customer_id = ").push_bind(id_text(customer));
    }
    if !filter.statuses.is_empty() {
        q.push(" AND status IN (");
        let mut list = q.separated(", ");
        for status in &filter.statuses {
            list.push_bind(status.as_str());
        }
        q.push(")");
    }
    if let Some(category) = filter.category_id {
        q.push(" AND category_id = ").push_bind(id_text(category));
    }
    if !filter.priorities.is_empty() {
        q.push(" AND priority IN (");
        let mut list = q.separated(", ");
        for priority in &filter.priorities {
            list.push_bind(priority.as_str());
        }
        q.push(")");
    }
    match filter.assignee {
        AssigneeFilter::Any => {}
        AssigneeFilter::Unassigned => {
            q.push(" AND assignee_id IS NULL");
        }
        AssigneeFilter::User(user) => {
            q.push(" AND assignee_id = ").push_bind(id_text(user));
        }
    }
    // A ticket matches when one search row (its subject or one message)
    // holds every word; the words are bound as one FTS5 query string.
    if let Some(query) = filter.text.as_deref().and_then(fts_query) {
        q.push(" AND id IN (")
            .push(match_tickets_sql(filter.include_internal))
            .push_bind(query)
            .push(")");
    }
    if let Some(from) = filter.created_from {
        q.push(" AND created_at >= ").push_bind(ts(from));
    }
    if let Some(to) = filter.created_to {
        q.push(" AND created_at < ").push_bind(ts(to));
    }
    if let Some(from) = filter.updated_from {
        q.push(" AND updated_at >= ").push_bind(ts(from));
    }
    if let Some(to) = filter.updated_to {
        q.push(" AND updated_at < ").push_bind(ts(to));
    }
    // Keyset: strictly after the cursor in sort order, as a row-value
    // comparison the planner turns into an index range.
    if let Some(after) = filter.after {
        q.push(match filter.sort {
            TicketSort::UpdatedDesc => " AND (updated_at, id) < (",
            TicketSort::CreatedDesc => " AND (created_at, id) < (",
            TicketSort::PriorityDesc => " AND (priority_rank, id) < (",
            TicketSort::CreatedAsc => " AND (created_at, id) > (",
        })
        .push_bind(after.key)
        .push(", ")
        .push_bind(id_text(after.id))
        .push(")");
    }
    q.push(match filter.sort {
        TicketSort::UpdatedDesc => " ORDER BY updated_at DESC, id DESC",
        TicketSort::CreatedDesc => " ORDER BY created_at DESC, id DESC",
        TicketSort::PriorityDesc => " ORDER BY priority_rank DESC, id DESC",
        TicketSort::CreatedAsc => " ORDER BY created_at ASC, id ASC",
    });
    q.push(" LIMIT ").push_bind(i64::from(filter.limit));
    q
}

/// One ticket with its first message inside the caller's write transaction,
/// exactly as [`TicketStore::insert_ticket_with_first_message`] documents it.
/// On an error some of its statements may have run: the caller rolls back
/// (the transaction, or the savepoint it took for this ticket), which also
/// gives the ticket number back.
///
/// The group-commit writer runs this for a batch of one call, and for each
/// call of a batch its set-based plan could not write (`group_commit/write.rs`);
/// a store without a running writer runs it in a transaction of its own.
pub(super) async fn insert_ticket_on(
    conn: &mut SqliteConnection,
    ticket: &Ticket,
    first: &NewMessage,
) -> StoreResult<(Ticket, Message)> {
    // The counter row is bumped inside this transaction: a failed insert
    // rolls the increment back, a committed number is never handed out again.
    let number: i64 = sqlx::query_scalar(
        "UPDATE counters SET value = value + 1 WHERE name = 'ticket_number' RETURNING value",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    // The first message always belongs to the ticket stored here.
    let message = Message {
        ticket_id: ticket.id,
        ..first.with_seq(1)
    };
    // The message fields are the store's: derived from the messages only.
    let mut stored = Ticket {
        number,
        last_seq: 0,
        awaiting_since: None,
        last_agent_seq: 0,
        last_agent_message_at: None,
        ..ticket.clone()
    };
    apply_message_effects(&mut stored, &message);
    sqlx::query(concat!(
        "INSERT INTO tickets (",
        ticket_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(id_text(stored.id))
    .bind(stored.number)
    .bind(stored.subject.as_str())
    .bind(id_text(stored.customer_id))
    .bind(id_text_opt(stored.category_id))
    .bind(stored.priority.as_str())
    .bind(stored.status.as_str())
    .bind(id_text_opt(stored.assignee_id))
    .bind(ts(stored.created_at))
    .bind(ts(stored.updated_at))
    .bind(ts_opt(stored.first_response_at))
    .bind(ts_opt(stored.resolved_at))
    .bind(ts_opt(stored.closed_at))
    .bind(stored.last_seq)
    .bind(ts_opt(stored.awaiting_since))
    .bind(stored.last_agent_seq)
    .bind(ts_opt(stored.last_agent_message_at))
    .bind(stored.customer_notified_seq)
    .bind(ts_opt(stored.escalated_new_at))
    .bind(ts_opt(stored.escalated_awaiting_since))
    .bind(stored.version)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    insert_message_row(conn, &message).await?;
    // Idempotent per author: checked after the inserts, so a clashing id
    // or an unknown reference is reported first (as the other stores do);
    // BEGIN IMMEDIATE keeps a concurrent open of the same key out.
    if let Some(client_msg_id) = message.client_msg_id.as_deref() {
        let original = sqlx::query(FIRST_MESSAGE_SQL)
            .bind(id_text_opt(message.author_id))
            .bind(client_msg_id)
            .bind(id_text(stored.id))
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
        if original.is_some() {
            return Err(StoreError::UniqueViolation {
                constraint: "tickets.first_message",
            });
        }
    }
    // The search indexer finds both by their positions (`search/`).
    Ok((stored, message))
}

#[async_trait]
impl TicketStore for SqliteStore {
    /// Queued to the store's group-commit writer (see the module docs of
    /// [`crate::sqlite`]): resolves once the transaction holding the ticket
    /// has committed.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_ticket_with_first_message(
        &self,
        ticket: &Ticket,
        first: &NewMessage,
    ) -> StoreResult<(Ticket, Message)> {
        match self.group.insert_ticket(ticket, first).await {
            Some(outcome) => outcome,
            // No writer task (its runtime is gone): one transaction of our own.
            None => {
                let mut tx = self.begin_write().await?;
                let stored = insert_ticket_on(&mut tx, ticket, first).await?;
                commit(tx).await?;
                Ok(stored)
            }
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn fetch_ticket(&self, id: TicketId) -> StoreResult<Option<Ticket>> {
        fetch_one(
            &self.pool,
            concat!("SELECT ", ticket_cols!(), " FROM tickets WHERE id = ?"),
            id_text(id),
            ticket_from_row,
        )
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn fetch_ticket_by_first_message(
        &self,
        author: UserId,
        client_msg_id: &str,
    ) -> StoreResult<Option<(Ticket, Message)>> {
        // One read transaction: the ticket as of the same snapshot.
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let Some(row) = sqlx::query(FIRST_MESSAGE_SQL)
            .bind(id_text(author))
            .bind(client_msg_id)
            .bind("")
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let message = message_from_row(&row)?;
        let ticket = fetch_one(
            &mut *tx,
            concat!("SELECT ", ticket_cols!(), " FROM tickets WHERE id = ?"),
            id_text(message.ticket_id),
            ticket_from_row,
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ticket.map(|t| (t, message)))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_ticket(
        &self,
        ticket: &Ticket,
        expected_version: i64,
        mail: Option<&OutboxMessage>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // Only the mutable fields: `number`, `subject`, `customer_id`,
        // `created_at` and the message fields (`last_seq`, `awaiting_since`,
        // `last_agent_seq`, `last_agent_message_at`) are never rewritten.
        let done = sqlx::query(
            "UPDATE tickets SET category_id = ?, priority = ?, status = ?, \
             assignee_id = ?, updated_at = ?, first_response_at = ?, resolved_at = ?, \
             closed_at = ?, customer_notified_seq = ?, escalated_new_at = ?, \
             escalated_awaiting_since = ?, version = ? \
             WHERE id = ? AND version = ?",
        )
        .bind(id_text_opt(ticket.category_id))
        .bind(ticket.priority.as_str())
        .bind(ticket.status.as_str())
        .bind(id_text_opt(ticket.assignee_id))
        .bind(ts(ticket.updated_at))
        .bind(ts_opt(ticket.first_response_at))
        .bind(ts_opt(ticket.resolved_at))
        .bind(ts_opt(ticket.closed_at))
        .bind(ticket.customer_notified_seq)
        .bind(ts_opt(ticket.escalated_new_at))
        .bind(ts_opt(ticket.escalated_awaiting_since))
        .bind(ticket.version)
        .bind(id_text(ticket.id))
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM tickets WHERE id = ?")
                .bind(id_text(ticket.id))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .is_some();
            return Err(if exists {
                StoreError::Conflict
            } else {
                StoreError::NotFound
            });
        }
        if let Some(mail) = mail {
            insert_outbox_with(&mut tx, mail).await?;
        }
        commit(tx).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_tickets(&self, filter: &TicketFilter) -> StoreResult<Vec<Ticket>> {
        if filter.text.as_deref().and_then(fts_query).is_some() {
            // The index is attached to its own pool's connections only.
            self.flush_search_index().await?;
            return fetch_tickets(list_query(filter, "").build(), self.search.pool()).await;
        }
        fetch_tickets(list_query(filter, "").build(), &self.pool).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_escalation_candidates(
        &self,
        new_before: OffsetDateTime,
        awaiting_before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>> {
        // Each branch reads its own partial index (tickets_escalate_new_idx,
        // tickets_escalate_awaiting_idx) holding exactly its candidates; UNION
        // drops a ticket that qualifies twice.
        let q = sqlx::query(ESCALATION_SQL)
            .bind(ts(new_before))
            .bind(ts(awaiting_before))
            .bind(i64::from(limit));
        fetch_tickets(q, &self.pool).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_tickets_to_close(
        &self,
        resolved_before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>> {
        let q = sqlx::query(TO_CLOSE_SQL)
            .bind(ts(resolved_before))
            .bind(i64::from(limit));
        fetch_tickets(q, &self.pool).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_notifications_due(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>> {
        // tickets_notify_idx holds the open tickets with un-notified agent
        // replies; the customer's receipt (a left join: 0 when missing) is
        // one primary-key lookup each. A correlated subquery rather than a
        // join keeps `ticket_cols!` unambiguous (receipts has `updated_at`).
        let q = sqlx::query(NOTIFICATIONS_DUE_SQL)
            .bind(ts(before))
            .bind(i64::from(limit));
        fetch_tickets(q, &self.pool).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_tickets_in_window(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<Ticket>> {
        // Two index ranges (tickets_created_idx, tickets_resolved_at_idx)
        // merged by SQLite's OR optimisation.
        let q = sqlx::query(IN_WINDOW_SQL)
            .bind(ts(from))
            .bind(ts(to))
            .bind(ts(from))
            .bind(ts(to));
        fetch_tickets(q, &self.pool).await
    }
}
