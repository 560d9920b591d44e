//! [`MessageStore`] on SQLite.

use async_trait::async_trait;
use neurochat_core::domain::{InsertMessage, Message, MessageKind, NewMessage, TicketId};
use neurochat_core::ports::{MessageStore, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::{SqliteStore, commit, db_err};
use crate::common::{from_ms, id_text, id_text_opt, parse_enum, parse_id, parse_id_opt, ts};

macro_rules! message_cols {
    () => {
        "id, ticket_id, seq, author_id, kind, body, client_msg_id, created_at"
    };
}

fn message_from_row(r: &SqliteRow) -> StoreResult<Message> {
    Ok(Message {
        id: parse_id("messages.id", r.try_get("id").map_err(db_err)?)?,
        ticket_id: parse_id(
            "messages.ticket_id",
            r.try_get("ticket_id").map_err(db_err)?,
        )?,
        seq: r.try_get("seq").map_err(db_err)?,
        author_id: parse_id_opt(
            "messages.author_id",
            r.try_get("author_id").map_err(db_err)?,
        )?,
        kind: parse_enum(
            "messages.kind",
            r.try_get("kind").map_err(db_err)?,
            MessageKind::parse,
        )?,
        body: r.try_get("body").map_err(db_err)?,
        client_msg_id: r.try_get("client_msg_id").map_err(db_err)?,
        created_at: from_ms(
            "messages.created_at",
            r.try_get("created_at").map_err(db_err)?,
        )?,
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

#[async_trait]
impl MessageStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_message(&self, message: &NewMessage) -> StoreResult<InsertMessage> {
        // BEGIN IMMEDIATE serialises writers, so the duplicate check and the
        // seq assignment below see every committed message of the ticket.
        let mut tx = self.begin_write().await?;
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
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            if let Some(row) = original {
                return Ok(InsertMessage::Duplicate(message_from_row(&row)?));
            }
        }
        let seq: i64 = sqlx::query_scalar(
            "UPDATE tickets SET last_seq = last_seq + 1, updated_at = ? WHERE id = ? \
             RETURNING last_seq",
        )
        .bind(ts(message.created_at))
        .bind(id_text(message.ticket_id))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let stored = message.with_seq(seq);
        insert_message_row(&mut tx, &stored).await?;
        commit(tx).await?;
        Ok(InsertMessage::Inserted(stored))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_messages_after(
        &self,
        ticket_id: TicketId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        sqlx::query(concat!(
            "SELECT ",
            message_cols!(),
            " FROM messages WHERE ticket_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?"
        ))
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
    ) -> StoreResult<Vec<Message>> {
        let mut messages = sqlx::query(concat!(
            "SELECT ",
            message_cols!(),
            " FROM messages WHERE ticket_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?"
        ))
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
}
