//! [`OutboxStore`] on SQLite.

use async_trait::async_trait;
use neurochat_core::domain::{OutboxId, OutboxMessage};
use neurochat_core::ports::{OutboxStore, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;

use super::{SqliteStore, commit, db_err, fetch_one};
use crate::common::{from_ms, from_ms_opt, id_text, parse_id, to_u32, ts, ts_opt};

macro_rules! outbox_cols {
    () => {
        "id, recipient, subject, body, created_at, attempts, next_attempt_at, last_error, sent_at"
    };
}

fn outbox_from_row(r: &SqliteRow) -> StoreResult<OutboxMessage> {
    Ok(OutboxMessage {
        id: parse_id("outbox.id", r.try_get("id").map_err(db_err)?)?,
        recipient: r.try_get("recipient").map_err(db_err)?,
        subject: r.try_get("subject").map_err(db_err)?,
        body: r.try_get("body").map_err(db_err)?,
        created_at: from_ms(
            "outbox.created_at",
            r.try_get("created_at").map_err(db_err)?,
        )?,
        attempts: to_u32("outbox.attempts", r.try_get("attempts").map_err(db_err)?)?,
        next_attempt_at: from_ms(
            "outbox.next_attempt_at",
            r.try_get("next_attempt_at").map_err(db_err)?,
        )?,
        last_error: r.try_get("last_error").map_err(db_err)?,
        sent_at: from_ms_opt("outbox.sent_at", r.try_get("sent_at").map_err(db_err)?)?,
    })
}

/// Enqueues a mail on a connection (possibly inside a transaction).
pub(super) async fn insert_outbox_with(
    conn: &mut SqliteConnection,
    mail: &OutboxMessage,
) -> StoreResult<()> {
    sqlx::query(concat!(
        "INSERT INTO outbox (",
        outbox_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(id_text(mail.id))
    .bind(mail.recipient.as_str())
    .bind(mail.subject.as_str())
    .bind(mail.body.as_str())
    .bind(ts(mail.created_at))
    .bind(i64::from(mail.attempts))
    .bind(ts(mail.next_attempt_at))
    .bind(mail.last_error.as_deref())
    .bind(ts_opt(mail.sent_at))
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl OutboxStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_outbox(&self, mail: &OutboxMessage) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        insert_outbox_with(&mut conn, mail).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn claim_outbox(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>> {
        // One write transaction: the due rows are chosen and leased while the
        // write lock is held, so a concurrent worker sees them already leased
        // (next_attempt_at moved to lease_until) and skips them.
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(concat!(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? \
             WHERE id IN (SELECT id FROM outbox \
                          WHERE sent_at IS NULL AND next_attempt_at <= ? \
                          ORDER BY created_at, id LIMIT ?) \
             RETURNING ",
            outbox_cols!()
        ))
        .bind(ts(lease_until))
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        commit(tx).await?;
        let mut mails = rows
            .iter()
            .map(outbox_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        // RETURNING gives no order guarantee: oldest first, as selected.
        mails.sort_by_key(|m| (m.created_at, m.id));
        Ok(mails)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_outbox_sent(&self, id: OutboxId, now: OffsetDateTime) -> StoreResult<()> {
        let done = sqlx::query("UPDATE outbox SET sent_at = ? WHERE id = ?")
            .bind(ts(now))
            .bind(id_text(id))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_outbox_failed(
        &self,
        id: OutboxId,
        error: &str,
        retry_at: OffsetDateTime,
    ) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE outbox SET last_error = ?, next_attempt_at = ? WHERE id = ?")
                .bind(error)
                .bind(ts(retry_at))
                .bind(id_text(id))
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn fetch_outbox(&self, id: OutboxId) -> StoreResult<Option<OutboxMessage>> {
        fetch_one(
            &self.pool,
            concat!("SELECT ", outbox_cols!(), " FROM outbox WHERE id = ?"),
            id_text(id),
            outbox_from_row,
        )
        .await
    }
}
