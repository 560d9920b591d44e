//! [`MessageStore`] on SQLite.

use async_trait::async_trait;
use neurochat_core::domain::{
    InsertMessage, Message, MessageKind, NewMessage, Receipt, TicketId, TicketStatus, UserId,
};
use neurochat_core::ports::{MessageStore, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;

use super::cols::Cols;
use super::tickets::{ticket_cols, ticket_from_row};
use super::{SqliteStore, commit, db_err};
use crate::common::{from_ms, id_text, id_text_opt, parse_enum, parse_id, parse_id_opt, ts};

macro_rules! message_cols {
    () => {
        "id, ticket_id, seq, author_id, kind, body, client_msg_id, created_at"
    };
}
pub(super) use message_cols;

/// Reads a row selected with [`message_cols!`] (by position for the
/// writer's raw rows).
pub(super) fn message_from_row(r: &impl Cols) -> StoreResult<Message> {
    Ok(Message {
        id: parse_id("messages.id", r.text(0, "id")?)?,
        ticket_id: parse_id("messages.ticket_id", r.text(1, "ticket_id")?)?,
        seq: r.int(2, "seq")?,
        author_id: parse_id_opt("messages.author_id", r.opt_text(3, "author_id")?)?,
        kind: parse_enum("messages.kind", r.text(4, "kind")?, MessageKind::parse)?,
        body: r.text(5, "body")?.to_owned(),
        client_msg_id: r.opt_text(6, "client_msg_id")?.map(str::to_owned),
        created_at: from_ms("messages.created_at", r.int(7, "created_at")?)?,
    })
}

/// Inserts a message row whose `seq` is already chosen.
pub(super) async fn insert_message_row(
    conn: &mut SqliteConnection,
    m: &Message,
) -> StoreResult<()> {
    sqlx::query(concat!(
        "INSERT INTO messages (",
        message_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(id_text(m.id))
    .bind(id_text(m.ticket_id))
    .bind(m.seq)
    .bind(id_text_opt(m.author_id))
    .bind(m.kind.as_str())
    .bind(m.body.as_str())
    .bind(m.client_msg_id.as_deref())
    .bind(ts(m.created_at))
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The ticket effects of a message insert (see `MessageStore::insert_message`),
/// one statement per kind: `seq = last_seq + 1` and the kind's effects, all
/// computed from the row as it was (SQLite evaluates every `SET` expression
/// on the old row). Closed tickets are left alone (`status <> 'closed'`).
/// Binds: `created_at` once per `?` before the id, then the ticket id.
fn bump_ticket_sql(kind: MessageKind) -> (&'static str, usize) {
    match kind {
        MessageKind::Customer => (
            concat!(
                "UPDATE tickets SET last_seq = last_seq + 1, updated_at = ?, \
                 awaiting_since = COALESCE(awaiting_since, ?), \
                 status = CASE WHEN status = 'resolved' THEN \
                     CASE WHEN assignee_id IS NULL THEN 'new' ELSE 'in_progress' END \
                     ELSE status END, \
                 version = version + (CASE WHEN status = 'resolved' THEN 1 ELSE 0 END) \
                 WHERE id = ? AND status <> 'closed' RETURNING ",
                ticket_cols!()
            ),
            2,
        ),
        MessageKind::Agent => (
            concat!(
                "UPDATE tickets SET last_seq = last_seq + 1, updated_at = ?, \
                 awaiting_since = NULL, \
                 first_response_at = COALESCE(first_response_at, ?), \
                 last_agent_seq = last_seq + 1, last_agent_message_at = ? \
                 WHERE id = ? AND status <> 'closed' RETURNING ",
                ticket_cols!()
            ),
            3,
        ),
        MessageKind::System | MessageKind::InternalNote => (
            concat!(
                "UPDATE tickets SET last_seq = last_seq + 1, updated_at = ? \
                 WHERE id = ? AND status <> 'closed' RETURNING ",
                ticket_cols!()
            ),
            1,
        ),
    }
}

fn receipt_from_row(r: &SqliteRow) -> StoreResult<Receipt> {
    Ok(Receipt {
        ticket_id: parse_id(
            "receipts.ticket_id",
            r.try_get("ticket_id").map_err(db_err)?,
        )?,
        user_id: parse_id("receipts.user_id", r.try_get("user_id").map_err(db_err)?)?,
        delivered_seq: r.try_get("delivered_seq").map_err(db_err)?,
        read_seq: r.try_get("read_seq").map_err(db_err)?,
        updated_at: from_ms(
            "receipts.updated_at",
            r.try_get("updated_at").map_err(db_err)?,
        )?,
    })
}

/// One message insert inside the caller's write transaction, exactly as
/// [`MessageStore::insert_message`] documents it (the duplicate check, the
/// ticket effects, the message and its search row). On an error some of its
/// statements may have run: the caller rolls back (the transaction, or the
/// savepoint it took for this message).
///
/// The group-commit writer runs this for a batch of one call, and for each
/// call of a batch its set-based plan could not write (`group_commit/write.rs`);
/// a store without a running writer runs it in a transaction of its own.
pub(super) async fn insert_message_on(
    conn: &mut SqliteConnection,
    message: &NewMessage,
) -> StoreResult<InsertMessage> {
    if let Some(client_msg_id) = message.client_msg_id.as_deref() {
        // `IS` matches NULL authors too (system messages).
        let original = sqlx::query(concat!(
            "SELECT ",
            message_cols!(),
            " FROM messages WHERE ticket_id = ? AND author_id IS ? AND client_msg_id = ?"
        ))
        .bind(id_text(message.ticket_id))
        .bind(id_text_opt(message.author_id))
        .bind(client_msg_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
        if let Some(row) = original {
            return Ok(InsertMessage::Duplicate(message_from_row(&row)?));
        }
    }
    // The status before the effects (the caller announces a reopening), and
    // the two refusals: an unknown ticket, a closed one.
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM tickets WHERE id = ?")
        .bind(id_text(message.ticket_id))
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    let Some(status) = status else {
        return Err(StoreError::NotFound);
    };
    let previous_status = parse_enum("tickets.status", &status, TicketStatus::parse)?;
    if previous_status == TicketStatus::Closed {
        return Err(StoreError::Conflict);
    }
    let (sql, times) = bump_ticket_sql(message.kind);
    let mut bump = sqlx::query(sql);
    for _ in 0..times {
        bump = bump.bind(ts(message.created_at));
    }
    let row = bump
        .bind(id_text(message.ticket_id))
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    let Some(row) = row else {
        // Read above inside this write transaction: it cannot have gone.
        return Err(StoreError::NotFound);
    };
    let ticket = ticket_from_row(&row)?;
    let stored = message.with_seq(ticket.last_seq);
    // The search indexer finds it by its position (`search/`).
    insert_message_row(conn, &stored).await?;
    Ok(InsertMessage::Inserted {
        message: stored,
        ticket,
        previous_status,
    })
}

#[async_trait]
impl MessageStore for SqliteStore {
    /// Queued to the store's group-commit writer (see the module docs of
    /// [`crate::sqlite`]): resolves once the transaction holding the message
    /// has committed.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_message(&self, message: &NewMessage) -> StoreResult<InsertMessage> {
        match self.group.insert_message(message).await {
            Some(outcome) => outcome,
            // No writer task (its runtime is gone): one transaction of our own.
            None => {
                let mut tx = self.begin_write().await?;
                let outcome = insert_message_on(&mut tx, message).await?;
                commit(tx).await?;
                Ok(outcome)
            }
        }
    }

    /// Queued to the writer back to back: one transaction, or consecutive
    /// ones, in order.
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_messages(&self, messages: &[NewMessage]) -> Vec<StoreResult<InsertMessage>> {
        if let Some(outcomes) = self.group.insert_messages(messages).await {
            return outcomes;
        }
        let mut outcomes = Vec::with_capacity(messages.len());
        for m in messages {
            outcomes.push(self.insert_message(m).await);
        }
        outcomes
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_messages_after(
        &self,
        ticket_id: TicketId,
        after_seq: i64,
        limit: u32,
        include_internal: bool,
    ) -> StoreResult<Vec<Message>> {
        let sql = if include_internal {
            concat!(
                "SELECT ",
                message_cols!(),
                " FROM messages WHERE ticket_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?"
            )
        } else {
            concat!(
                "SELECT ",
                message_cols!(),
                " FROM messages WHERE ticket_id = ? AND seq > ? AND kind <> 'internal_note' \
                 ORDER BY seq ASC LIMIT ?"
            )
        };
        sqlx::query(sql)
            .bind(id_text(ticket_id))
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(message_from_row)
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_messages_before(
        &self,
        ticket_id: TicketId,
        before_seq: i64,
        limit: u32,
        include_internal: bool,
    ) -> StoreResult<Vec<Message>> {
        let sql = if include_internal {
            concat!(
                "SELECT ",
                message_cols!(),
                " FROM messages WHERE ticket_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?"
            )
        } else {
            concat!(
                "SELECT ",
                message_cols!(),
                " FROM messages WHERE ticket_id = ? AND seq < ? AND kind <> 'internal_note' \
                 ORDER BY seq DESC LIMIT ?"
            )
        };
        let mut messages = sqlx::query(sql)
            .bind(id_text(ticket_id))
            .bind(before_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(message_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        messages.reverse();
        Ok(messages)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_receipt(
        &self,
        ticket_id: TicketId,
        user_id: UserId,
        delivered_seq: i64,
        read_seq: i64,
        now: OffsetDateTime,
    ) -> StoreResult<Receipt> {
        // One upsert (atomic on its own): positions only move forward
        // (SQLite's scalar max), `updated_at` only when one of them moved.
        // Unknown ticket or user: the foreign keys fail the insert. A write
        // on the chat's hot path: it takes the writer turn too.
        let _turn = self.writer_turn().await;
        let row = sqlx::query(
            "INSERT INTO receipts (ticket_id, user_id, delivered_seq, read_seq, updated_at) \
             VALUES (?, ?, max(0, ?, ?), max(0, ?), ?) \
             ON CONFLICT (ticket_id, user_id) DO UPDATE SET \
                 delivered_seq = max(delivered_seq, excluded.delivered_seq), \
                 read_seq = max(read_seq, excluded.read_seq), \
                 updated_at = CASE WHEN excluded.delivered_seq > delivered_seq \
                     OR excluded.read_seq > read_seq \
                     THEN excluded.updated_at ELSE updated_at END \
             RETURNING ticket_id, user_id, delivered_seq, read_seq, updated_at",
        )
        .bind(id_text(ticket_id))
        .bind(id_text(user_id))
        .bind(delivered_seq)
        .bind(read_seq)
        .bind(read_seq)
        .bind(ts(now))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        receipt_from_row(&row)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_receipts(&self, ticket_id: TicketId) -> StoreResult<Vec<Receipt>> {
        sqlx::query(
            "SELECT ticket_id, user_id, delivered_seq, read_seq, updated_at \
             FROM receipts WHERE ticket_id = ? ORDER BY user_id",
        )
        .bind(id_text(ticket_id))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(receipt_from_row)
        .collect()
    }
}
