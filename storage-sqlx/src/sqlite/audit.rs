//! [`AuditStore`] on SQLite.

use async_trait::async_trait;
use neurochat_core::domain::{AuditAction, AuditEntry, AuditFilter, UserId};
use neurochat_core::ports::{AuditStore, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use time::OffsetDateTime;

use super::{SqliteStore, db_err};
use crate::common::{from_ms, id_text, id_text_opt, parse_enum, parse_id, parse_id_opt, ts};

macro_rules! audit_cols {
    () => {
        "id, at, actor_id, action, target_type, target_id, source_ip, detail"
    };
}

fn audit_from_row(r: &SqliteRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: parse_id("audit_log.id", r.try_get("id").map_err(db_err)?)?,
        at: from_ms("audit_log.at", r.try_get("at").map_err(db_err)?)?,
        actor_id: parse_id_opt("audit_log.actor_id", r.try_get("actor_id").map_err(db_err)?)?,
        action: parse_enum(
            "audit_log.action",
            r.try_get("action").map_err(db_err)?,
            AuditAction::parse,
        )?,
        target_type: r.try_get("target_type").map_err(db_err)?,
        target_id: r.try_get("target_id").map_err(db_err)?,
        source_ip: r.try_get("source_ip").map_err(db_err)?,
        detail: r.try_get("detail").map_err(db_err)?,
    })
}

/// `count_audit_by_actor`: binds action, from, to. Reads
/// audit_log_action_at_idx (action, at, actor_id) alone.
pub(super) const AUDIT_BY_ACTOR_SQL: &str = "SELECT actor_id, COUNT(*) AS n FROM audit_log \
     WHERE action = ? AND at >= ? AND at < ? AND actor_id IS NOT NULL \
     GROUP BY actor_id ORDER BY actor_id";

/// The `list_audit` statement for `filter`, after `prefix` (`""`, or
/// `EXPLAIN QUERY PLAN ` for [`SqliteStore::query_plan`]). A ticket's trail
/// (`target_ticket`) reads the partial index audit_log_ticket_idx
/// (target_id, id) WHERE target_type = 'ticket' (migration 0006): the
/// literal `target_type = 'ticket'` below is what lets SQLite use it.
pub(super) fn list_query(filter: &AuditFilter, prefix: &str) -> QueryBuilder<Sqlite> {
    let mut q = QueryBuilder::<Sqlite>::new(prefix);
    q.push(concat!(
        "SELECT ",
        audit_cols!(),
        " FROM audit_log WHERE 1 = 1"
    ));
    if let Some(actor) = filter.actor_id {
        q.push(" AND actor_id = ").push_bind(id_text(actor));
    }
    if let Some(action) = filter.action {
        q.push(" AND action = ").push_bind(action.as_str());
    }
    if let Some(ticket) = filter.target_ticket {
        q.push(" AND target_type = 'ticket' AND target_id = ")
            .push_bind(id_text(ticket));
    }
    if let Some(from) = filter.from {
        q.push(" AND at >= ").push_bind(ts(from));
    }
    if let Some(to) = filter.to {
        q.push(" AND at < ").push_bind(ts(to));
    }
    if let Some(before) = filter.before {
        q.push(" AND id < ").push_bind(id_text(before));
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(filter.limit));
    q
}

#[async_trait]
impl AuditStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        sqlx::query(concat!(
            "INSERT INTO audit_log (",
            audit_cols!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(id_text(entry.id))
        .bind(ts(entry.at))
        .bind(id_text_opt(entry.actor_id))
        .bind(entry.action.as_str())
        .bind(entry.target_type.as_deref())
        .bind(entry.target_id.as_deref())
        .bind(entry.source_ip.as_deref())
        .bind(entry.detail.as_deref())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        list_query(filter, "")
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(audit_from_row)
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn count_audit_by_actor(
        &self,
        action: AuditAction,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<(UserId, u64)>> {
        let rows = sqlx::query(AUDIT_BY_ACTOR_SQL)
            .bind(action.as_str())
            .bind(ts(from))
            .bind(ts(to))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let actor = parse_id("audit_log.actor_id", r.try_get("actor_id").map_err(db_err)?)?;
                let n: i64 = r.try_get("n").map_err(db_err)?;
                Ok((actor, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }
}
