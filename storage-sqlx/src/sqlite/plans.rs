//! Query plans of the store's own queries, for diagnosing slow calls (and for
//! the tests that prove every listing and background job reads an index).

use neurochat_core::domain::{AuditFilter, TicketFilter};
use neurochat_core::ports::StoreResult;
use sqlx::{AssertSqlSafe, Row};

use super::audit::{AUDIT_BY_ACTOR_SQL, list_query as audit_list_query};
use super::group_commit::{
    DUPLICATES_SQL, FIRST_MESSAGES_SQL, KNOWN_SQL, TICKET_UPDATE_STATEMENTS, TICKETS_SQL,
};
use super::search::INDEX_MESSAGES_SQL;
use super::tickets::{
    ESCALATION_SQL, FIRST_MESSAGE_SQL, IN_WINDOW_SQL, NOTIFICATIONS_DUE_SQL, TO_CLOSE_SQL,
    list_query,
};
use super::users::{AGENT_LOADS_SQL, ERASE_SEARCH_SQL};
use super::{SqliteStore, db_err};

/// One of the store's queries whose plan [`SqliteStore::query_plan`] shows.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum StoreQuery<'a> {
    /// `list_tickets` with this filter (the plan depends on which fields are set).
    ListTickets(&'a TicketFilter),
    /// `list_escalation_candidates`.
    EscalationCandidates,
    /// `list_tickets_to_close`.
    TicketsToClose,
    /// `list_notifications_due`.
    NotificationsDue,
    /// `list_tickets_in_window`.
    TicketsInWindow,
    /// `list_agent_loads`.
    AgentLoads,
    /// `count_audit_by_actor`.
    AuditByActor,
    /// `list_audit` with this filter (e.g. a ticket's trail: `target_ticket`).
    ListAudit(&'a AuditFilter),
    /// `update_user_erased` logging the erased search rows.
    EraseSearchRows,
    /// `fetch_ticket_by_first_message` (and the idempotency check of
    /// `insert_ticket_with_first_message`).
    TicketByFirstMessage,
    /// Group commit: the tickets of a batch, by id.
    BatchTickets,
    /// Group commit: the stored messages a batch's `client_msg_id`s repeat.
    BatchDuplicates,
    /// Group commit: the stored first messages a batch's new tickets repeat.
    BatchFirstMessages,
    /// Group commit: which users, categories and message ids a batch that
    /// opens tickets refers to exist.
    BatchKnownIds,
    /// Group commit: the final state of the tickets a batch's messages
    /// touched (the plans of its statements, one per column group, in turn).
    BatchTicketUpdates,
    /// Search indexing: the messages past the index's mark into the
    /// full-text index (on the index's own connections).
    SearchIndexing,
}

impl SqliteStore {
    /// The plan SQLite chooses for one of the store's queries on this
    /// database: the `detail` lines of `EXPLAIN QUERY PLAN`, e.g. `SEARCH
    /// tickets USING INDEX tickets_customer_idx (customer_id=?)`. Nothing is
    /// executed. Plans are chosen from the schema (and from `ANALYZE`
    /// statistics, if the database has any), not from the bound values.
    pub async fn query_plan(&self, query: StoreQuery<'_>) -> StoreResult<Vec<String>> {
        const EXPLAIN: &str = "EXPLAIN QUERY PLAN ";
        let (sql, binds): (&'static str, usize) = match query {
            StoreQuery::ListTickets(filter) => {
                let mut q = list_query(filter, EXPLAIN);
                // A text search runs where the index is attached.
                let pool = if filter.text.is_some() {
                    self.search.pool()
                } else {
                    &self.pool
                };
                return collect_plan(q.build().fetch_all(pool).await);
            }
            StoreQuery::ListAudit(filter) => {
                let mut q = audit_list_query(filter, EXPLAIN);
                return collect_plan(q.build().fetch_all(&self.pool).await);
            }
            StoreQuery::EscalationCandidates => (ESCALATION_SQL, 3),
            StoreQuery::TicketsToClose => (TO_CLOSE_SQL, 2),
            StoreQuery::NotificationsDue => (NOTIFICATIONS_DUE_SQL, 2),
            StoreQuery::TicketsInWindow => (IN_WINDOW_SQL, 4),
            StoreQuery::AgentLoads => (AGENT_LOADS_SQL, 0),
            StoreQuery::AuditByActor => (AUDIT_BY_ACTOR_SQL, 3),
            StoreQuery::EraseSearchRows => (ERASE_SEARCH_SQL, 4),
            StoreQuery::TicketByFirstMessage => (FIRST_MESSAGE_SQL, 3),
            StoreQuery::BatchTickets => return self.json_plan(TICKETS_SQL, 1).await,
            StoreQuery::BatchDuplicates => return self.json_plan(DUPLICATES_SQL, 1).await,
            StoreQuery::BatchFirstMessages => return self.json_plan(FIRST_MESSAGES_SQL, 1).await,
            StoreQuery::BatchKnownIds => return self.json_plan(KNOWN_SQL, 3).await,
            StoreQuery::BatchTicketUpdates => {
                // One statement per column group, all of one shape.
                let mut lines = Vec::new();
                for sql in TICKET_UPDATE_STATEMENTS {
                    lines.extend(self.json_plan(sql, 1).await?);
                }
                return Ok(lines);
            }
            StoreQuery::SearchIndexing => {
                let explain = AssertSqlSafe(format!("{EXPLAIN}{INDEX_MESSAGES_SQL}"));
                let q = sqlx::query(explain).bind(0_i64).bind(0_i64);
                return collect_plan(q.fetch_all(self.search.pool()).await);
            }
        };
        // The SQL is one of the store's constant statements.
        let mut q = sqlx::query(AssertSqlSafe(format!("{EXPLAIN}{sql}")));
        for _ in 0..binds {
            q = q.bind(0_i64);
        }
        collect_plan(q.fetch_all(&self.pool).await)
    }
}

impl SqliteStore {
    /// The plan of a group-commit statement, its `binds` JSON parameters
    /// bound to empty arrays.
    async fn json_plan(&self, sql: &'static str, binds: usize) -> StoreResult<Vec<String>> {
        // The SQL is one of the store's constant statements.
        let mut q = sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
        for _ in 0..binds {
            q = q.bind("[]");
        }
        collect_plan(q.fetch_all(&self.pool).await)
    }
}

fn collect_plan(
    rows: Result<Vec<sqlx::sqlite::SqliteRow>, sqlx::Error>,
) -> StoreResult<Vec<String>> {
    rows.map_err(db_err)?
        .iter()
        .map(|r| r.try_get::<String, _>("detail").map_err(db_err))
        .collect()
}
