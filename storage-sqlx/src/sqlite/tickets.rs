//! [`TicketStore`] on SQLite.

use async_trait::async_trait;
use neurochat_core::domain::{
    Message, NewMessage, Priority, Ticket, TicketFilter, TicketId, TicketStatus,
};
use neurochat_core::ports::{StoreError, StoreResult, TicketStore};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::messages::insert_message_row;
use super::{SqliteStore, commit, db_err};
use crate::common::{
    from_ms, from_ms_opt, id_text, id_text_opt, parse_enum, parse_id, parse_id_opt, ts, ts_opt,
};

macro_rules! ticket_cols {
    () => {
        "id, number, subject, customer_id, category_id, priority, status, assignee_id, \
         created_at, updated_at, first_response_at, resolved_at, last_seq, version"
    };
}

fn ticket_from_row(r: &SqliteRow) -> StoreResult<Ticket> {
    Ok(Ticket {
        id: parse_id("tickets.id", r.try_get("id").map_err(db_err)?)?,
        number: r.try_get("number").map_err(db_err)?,
        subject: r.try_get("subject").map_err(db_err)?,
        customer_id: parse_id(
            "tickets.customer_id",
            r.try_get("customer_id").map_err(db_err)?,
        )?,
        category_id: parse_id_opt(
            "tickets.category_id",
            r.try_get("category_id").map_err(db_err)?,
        )?,
        priority: parse_enum(
            "tickets.priority",
            r.try_get("priority").map_err(db_err)?,
            Priority::parse,
        )?,
        status: parse_enum(
            "tickets.status",
            r.try_get("status").map_err(db_err)?,
            TicketStatus::parse,
        )?,
        assignee_id: parse_id_opt(
            "tickets.assignee_id",
            r.try_get("assignee_id").map_err(db_err)?,
        )?,
        created_at: from_ms(
            "tickets.created_at",
            r.try_get("created_at").map_err(db_err)?,
        )?,
        updated_at: from_ms(
            "tickets.updated_at",
            r.try_get("updated_at").map_err(db_err)?,
        )?,
        first_response_at: from_ms_opt(
            "tickets.first_response_at",
            r.try_get("first_response_at").map_err(db_err)?,
        )?,
        resolved_at: from_ms_opt(
            "tickets.resolved_at",
            r.try_get("resolved_at").map_err(db_err)?,
        )?,
        last_seq: r.try_get("last_seq").map_err(db_err)?,
        version: r.try_get("version").map_err(db_err)?,
    })
}

#[async_trait]
impl TicketStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_ticket_with_first_message(
        &self,
        ticket: &Ticket,
        first: &NewMessage,
    ) -> StoreResult<(Ticket, Message)> {
        let mut tx = self.begin_write().await?;
        // The counter row is bumped inside this transaction: a failed insert
        // rolls the increment back, a committed number is never handed out again.
        let number: i64 = sqlx::query_scalar(
            "UPDATE counters SET value = value + 1 WHERE name = 'ticket_number' RETURNING value",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let stored = Ticket {
            number,
            last_seq: 1,
            ..ticket.clone()
        };
        sqlx::query(concat!(
            "INSERT INTO tickets (",
            ticket_cols!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
        .bind(stored.last_seq)
        .bind(stored.version)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // The first message always belongs to the ticket stored here.
        let message = Message {
            ticket_id: stored.id,
            ..first.with_seq(1)
        };
        insert_message_row(&mut tx, &message).await?;
        commit(tx).await?;
        Ok((stored, message))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn fetch_ticket(&self, id: TicketId) -> StoreResult<Option<Ticket>> {
        sqlx::query(concat!(
            "SELECT ",
            ticket_cols!(),
            " FROM tickets WHERE id = ?"
        ))
        .bind(id_text(id))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(ticket_from_row)
        .transpose()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_ticket(&self, ticket: &Ticket, expected_version: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // Only the mutable fields: `number`, `last_seq`, `subject`,
        // `customer_id` and `created_at` are never rewritten.
        let done = sqlx::query(
            "UPDATE tickets SET category_id = ?, priority = ?, status = ?, \
             assignee_id = ?, updated_at = ?, first_response_at = ?, resolved_at = ?, \
             version = ? \
             WHERE id = ? AND version = ?",
        )
        .bind(id_text_opt(ticket.category_id))
        .bind(ticket.priority.as_str())
        .bind(ticket.status.as_str())
        .bind(id_text_opt(ticket.assignee_id))
        .bind(ts(ticket.updated_at))
        .bind(ts_opt(ticket.first_response_at))
        .bind(ts_opt(ticket.resolved_at))
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
        commit(tx).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_tickets(&self, filter: &TicketFilter) -> StoreResult<Vec<Ticket>> {
        let mut q = QueryBuilder::<Sqlite>::new(concat!(
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
        if let Some(assignee) = filter.assignee_id {
            q.push(" AND assignee_id = ").push_bind(id_text(assignee));
        }
        if filter.unassigned {
            q.push(" AND assignee_id IS NULL");
        }
        if let Some((updated_at, id)) = filter.before {
            let at = ts(updated_at);
            q.push(" AND (updated_at < ")
                .push_bind(at)
                .push(" OR (updated_at = ")
                .push_bind(at)
                .push(" AND id < ")
                .push_bind(id_text(id))
                .push("))");
        }
        q.push(" ORDER BY updated_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(filter.limit));
        q.build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(ticket_from_row)
            .collect()
    }
}
