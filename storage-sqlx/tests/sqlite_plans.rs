//! Query plans (`EXPLAIN QUERY PLAN`): lookups, listings and jobs use indexes.

#![allow(clippy::unwrap_used)]

mod support;

use neurochat_core::domain::{CategoryId, Priority, TicketId, TicketStatus, UserId};
use neurochat_storage_sqlx::SqliteStore;
use sqlx::Row;
use time::Duration;
use uuid::Uuid;

use support::*;

/// The `detail` lines of `EXPLAIN QUERY PLAN sql` with `binds` text parameters.
async fn plan(store: &SqliteStore, sql: &'static str, binds: &[&str]) -> Vec<String> {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("detail").unwrap())
        .collect()
}

fn assert_indexed(lines: &[String], what: &str) {
    assert!(!lines.is_empty(), "{what}: empty plan");
    for l in lines {
        let indexed = l.contains("USING INDEX")
            || l.contains("USING COVERING INDEX")
            || l.contains("USING PRIMARY KEY")
            || l.contains("USING INTEGER PRIMARY KEY");
        assert!(
            indexed && !l.starts_with("SCAN"),
            "{what}: plan step does not use an index: {l:?} (full plan: {lines:?})"
        );
    }
}

// ---------------------------------------------------------------- query plans

#[tokio::test]
async fn lookups_use_indexes() {
    let (_dir, store) = temp_store().await;
    // ANALYZE-free plans: SQLite picks indexes from the schema alone.
    let id = Uuid::now_v7().hyphenated().to_string();
    let cases: &[(&str, &'static str, &[&str])] = &[
        (
            "user by id",
            "EXPLAIN QUERY PLAN SELECT * FROM users WHERE id = ?",
            &[&id],
        ),
        (
            "user by email",
            "EXPLAIN QUERY PLAN SELECT * FROM users WHERE email_normalized = ?",
            &["a@example.com"],
        ),
        (
            "user by external id",
            "EXPLAIN QUERY PLAN SELECT * FROM users WHERE external_id = ?",
            &["ext-1"],
        ),
        (
            "session by id",
            "EXPLAIN QUERY PLAN SELECT * FROM sessions WHERE id = ?",
            &[&id],
        ),
        (
            "sessions of a user",
            "EXPLAIN QUERY PLAN UPDATE sessions SET revoked_at = 1 WHERE user_id = ? AND revoked_at IS NULL",
            &[&id],
        ),
        (
            "refresh token by id",
            "EXPLAIN QUERY PLAN SELECT * FROM refresh_tokens WHERE id = ?",
            &[&id],
        ),
        (
            "reset token by id",
            "EXPLAIN QUERY PLAN SELECT * FROM reset_tokens WHERE id = ?",
            &[&id],
        ),
        (
            "messages by ticket after seq",
            "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE ticket_id = ? AND seq > 5 ORDER BY seq LIMIT 50",
            &[&id],
        ),
        (
            "messages by ticket before seq",
            "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE ticket_id = ? AND seq < 50 ORDER BY seq DESC LIMIT 50",
            &[&id],
        ),
        (
            "message idempotency key",
            "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE ticket_id = ? AND author_id IS ? AND client_msg_id = ?",
            &[&id, &id, "c-1"],
        ),
        (
            "audit by actor",
            "EXPLAIN QUERY PLAN SELECT * FROM audit_log WHERE actor_id = ? ORDER BY id DESC LIMIT 50",
            &[&id],
        ),
        (
            "audit by action",
            "EXPLAIN QUERY PLAN SELECT * FROM audit_log WHERE action = ? ORDER BY id DESC LIMIT 50",
            &["logout"],
        ),
        (
            "ticket by id",
            "EXPLAIN QUERY PLAN SELECT * FROM tickets WHERE id = ?",
            &[&id],
        ),
        // (A customer's tickets sorted by activity are found by
        // tickets_customer_idx and sorted: see ticket_listings_and_jobs_use_indexes.)
        (
            "tickets of a customer",
            "EXPLAIN QUERY PLAN SELECT * FROM tickets WHERE customer_id = ?",
            &[&id],
        ),
        (
            "category by name",
            "EXPLAIN QUERY PLAN SELECT * FROM categories WHERE name_key = ?",
            &["billing"],
        ),
        (
            "outbox by id",
            "EXPLAIN QUERY PLAN SELECT * FROM outbox WHERE id = ?",
            &[&id],
        ),
    ];
    for (what, sql, binds) in cases {
        let lines = plan(&store, sql, binds).await;
        assert_indexed(&lines, what);
    }
}

/// No step of `lines` reads a table row by row: every table access is an
/// index search or an index-ordered scan (the FTS5 table is searched through
/// its own full-text index: `SCAN s VIRTUAL TABLE INDEX …`).
fn assert_no_table_scan(lines: &[String], what: &str) {
    assert!(!lines.is_empty(), "{what}: empty plan");
    for l in lines {
        let bare_scan = l.starts_with("SCAN ")
            && !l.contains(" USING INDEX ")
            && !l.contains(" USING COVERING INDEX ")
            && !l.contains(" VIRTUAL TABLE INDEX ")
            && !l.starts_with("SCAN CONSTANT ROW");
        assert!(
            !bare_scan,
            "{what}: plan scans a table: {l:?} (full plan: {lines:?})"
        );
    }
}

/// `lines` searches (not just scans) `index`.
fn assert_searches(lines: &[String], index: &str, what: &str) {
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("SEARCH ") && l.contains(&format!("INDEX {index} "))),
        "{what}: expected a SEARCH on {index}, got {lines:?}"
    );
}

#[tokio::test]
async fn ticket_listings_and_jobs_use_indexes() {
    use neurochat_core::domain::{AssigneeFilter, TicketCursor, TicketFilter, TicketSort};
    use neurochat_storage_sqlx::sqlite::StoreQuery;

    let (_dir, store) = temp_store().await;
    let t0 = now();
    let id = TicketId(Uuid::now_v7());
    let user_id = UserId(Uuid::now_v7());
    // Each filter field alone (default sort), with the index it must search.
    let single: Vec<(&str, TicketFilter, &str)> = vec![
        (
            "customer",
            TicketFilter {
                customer_id: Some(user_id),
                ..ticket_filter()
            },
            "tickets_customer_idx",
        ),
        (
            "statuses",
            TicketFilter {
                statuses: vec![TicketStatus::New, TicketStatus::InProgress],
                ..ticket_filter()
            },
            "tickets_status_idx",
        ),
        (
            "category",
            TicketFilter {
                category_id: Some(CategoryId(Uuid::now_v7())),
                ..ticket_filter()
            },
            "tickets_category_idx",
        ),
        (
            "priorities",
            TicketFilter {
                priorities: vec![Priority::High, Priority::Urgent],
                ..ticket_filter()
            },
            "tickets_priority_idx",
        ),
        (
            "assignee",
            TicketFilter {
                assignee: AssigneeFilter::User(user_id),
                ..ticket_filter()
            },
            "tickets_assignee_idx",
        ),
        (
            "unassigned",
            TicketFilter {
                assignee: AssigneeFilter::Unassigned,
                ..ticket_filter()
            },
            "tickets_assignee_idx",
        ),
        (
            "text",
            TicketFilter {
                text: Some("refund invoice".to_owned()),
                ..ticket_filter()
            },
            "sqlite_autoindex_tickets_1",
        ),
        (
            "text with internal notes",
            TicketFilter {
                text: Some("refund".to_owned()),
                include_internal: true,
                ..ticket_filter()
            },
            "sqlite_autoindex_tickets_1",
        ),
        (
            "created range",
            TicketFilter {
                created_from: Some(t0 - Duration::days(7)),
                created_to: Some(t0),
                ..ticket_filter()
            },
            "tickets_created_idx",
        ),
        // Open-ended, SQLite prefers reading in the default (updated) order
        // and stopping after `limit` matches to sorting the whole range.
        (
            "created from",
            TicketFilter {
                created_from: Some(t0 - Duration::days(7)),
                ..ticket_filter()
            },
            "tickets_updated_idx",
        ),
        (
            "updated range",
            TicketFilter {
                updated_from: Some(t0 - Duration::days(7)),
                updated_to: Some(t0),
                ..ticket_filter()
            },
            "tickets_updated_idx",
        ),
        (
            "updated to",
            TicketFilter {
                updated_to: Some(t0),
                ..ticket_filter()
            },
            "tickets_updated_idx",
        ),
    ];
    for (what, filter, index) in &single {
        let lines = store
            .query_plan(StoreQuery::ListTickets(filter))
            .await
            .unwrap();
        assert_no_table_scan(&lines, what);
        assert!(
            lines.iter().any(|l| l.contains(&format!("INDEX {index} "))
                || l.ends_with(&format!("INDEX {index}"))),
            "{what}: expected {index}: {lines:?}"
        );
        if filter.text.is_some() {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with("SCAN s VIRTUAL TABLE INDEX")),
                "{what}: the full-text index answers the words: {lines:?}"
            );
        }
    }
    // Each sort order, without and with a cursor: read in index order, no sort step.
    let sorts = [
        (TicketSort::UpdatedDesc, "tickets_updated_idx"),
        (TicketSort::CreatedDesc, "tickets_created_idx"),
        (TicketSort::PriorityDesc, "tickets_priority_rank_idx"),
        (TicketSort::CreatedAsc, "tickets_created_idx"),
    ];
    for (sort, index) in sorts {
        for after in [None, Some(TicketCursor { key: 5, id })] {
            let filter = TicketFilter {
                sort,
                after,
                ..ticket_filter()
            };
            let what = format!("sort {sort:?} after {after:?}");
            let lines = store
                .query_plan(StoreQuery::ListTickets(&filter))
                .await
                .unwrap();
            assert_no_table_scan(&lines, &what);
            assert!(
                lines.iter().any(|l| l.contains(&format!("INDEX {index}"))),
                "{what}: expected {index}: {lines:?}"
            );
            assert!(
                !lines.iter().any(|l| l.contains("TEMP B-TREE")),
                "{what}: sorts instead of reading in index order: {lines:?}"
            );
            if after.is_some() {
                assert_searches(&lines, index, &what);
            }
        }
    }
    // A customer's tickets page by page: found by the customer index and
    // sorted (a customer has a handful; migration 0004 keeps `updated_at`,
    // which every message moves, out of that index).
    let customer_page = TicketFilter {
        customer_id: Some(user_id),
        after: Some(TicketCursor { key: 5, id }),
        ..ticket_filter()
    };
    let lines = store
        .query_plan(StoreQuery::ListTickets(&customer_page))
        .await
        .unwrap();
    assert_no_table_scan(&lines, "customer page");
    assert_searches(&lines, "tickets_customer_idx", "customer page");
    // An agent's open queue: one index gives both the filter and the order.
    for (what, filter, index) in [(
        "agent queue",
        TicketFilter {
            statuses: vec![TicketStatus::New, TicketStatus::InProgress],
            assignee: AssigneeFilter::User(user_id),
            ..ticket_filter()
        },
        "tickets_assignee_idx",
    )] {
        let lines = store
            .query_plan(StoreQuery::ListTickets(&filter))
            .await
            .unwrap();
        assert_no_table_scan(&lines, what);
        assert_searches(&lines, index, what);
        assert!(
            !lines.iter().any(|l| l.contains("TEMP B-TREE")),
            "{what}: {lines:?}"
        );
    }
    // Every filter at once still plans (and binds) fine.
    let everything = TicketFilter {
        customer_id: Some(user_id),
        statuses: vec![TicketStatus::New],
        category_id: Some(CategoryId(Uuid::now_v7())),
        priorities: vec![Priority::Low],
        assignee: AssigneeFilter::Unassigned,
        text: Some("x".to_owned()),
        include_internal: false,
        created_from: Some(t0),
        created_to: Some(t0),
        updated_from: Some(t0),
        updated_to: Some(t0),
        sort: TicketSort::PriorityDesc,
        after: Some(TicketCursor { key: 1, id }),
        limit: 10,
    };
    let lines = store
        .query_plan(StoreQuery::ListTickets(&everything))
        .await
        .unwrap();
    assert_no_table_scan(&lines, "every filter");

    // The background jobs and the other new queries.
    let jobs = [
        (StoreQuery::EscalationCandidates, "escalation candidates"),
        (StoreQuery::TicketsToClose, "tickets to close"),
        (StoreQuery::NotificationsDue, "notifications due"),
        (StoreQuery::TicketsInWindow, "tickets in window"),
        (StoreQuery::AgentLoads, "agent loads"),
        (StoreQuery::AuditByActor, "audit by actor"),
        (StoreQuery::EraseSearchRows, "erase search rows"),
        (StoreQuery::TicketByFirstMessage, "ticket by first message"),
        (StoreQuery::BatchTickets, "group commit: tickets"),
        (StoreQuery::BatchDuplicates, "group commit: repeated keys"),
        (
            StoreQuery::BatchFirstMessages,
            "group commit: repeated first messages",
        ),
        (StoreQuery::BatchKnownIds, "group commit: known ids"),
        (
            StoreQuery::BatchTicketUpdates,
            "group commit: ticket updates",
        ),
        (StoreQuery::SearchIndexing, "search indexing"),
    ];
    for (query, what) in jobs {
        let lines = store.query_plan(query).await.unwrap();
        assert_no_table_scan(&lines, what);
        match query {
            // Small partial indexes holding exactly the candidates.
            StoreQuery::EscalationCandidates => {
                assert_searches(&lines, "tickets_escalate_new_idx", what);
                assert_searches(&lines, "tickets_escalate_awaiting_idx", what);
            }
            StoreQuery::TicketsToClose => assert_searches(&lines, "tickets_to_close_idx", what),
            StoreQuery::NotificationsDue => {
                assert_searches(&lines, "tickets_notify_idx", what);
                assert_searches(&lines, "sqlite_autoindex_receipts_1", what);
            }
            StoreQuery::TicketsInWindow => {
                assert_searches(&lines, "tickets_created_idx", what);
                assert_searches(&lines, "tickets_resolved_at_idx", what);
            }
            StoreQuery::AgentLoads => {
                assert!(
                    lines
                        .iter()
                        .any(|l| l.contains("COVERING INDEX tickets_open_assignee_idx")),
                    "{what}: counts from the index alone: {lines:?}"
                );
            }
            StoreQuery::AuditByActor => assert_searches(&lines, "audit_log_action_at_idx", what),
            StoreQuery::TicketByFirstMessage => {
                assert_searches(&lines, "messages_first_message_idx", what);
            }
            StoreQuery::EraseSearchRows => {
                assert_searches(&lines, "messages_staff_author_idx", what);
                assert_searches(&lines, "tickets_customer_idx", what);
                assert_searches(&lines, "messages_client_msg_key", what);
            }
            // One primary-key or unique-index probe per row of the batch.
            StoreQuery::BatchTickets | StoreQuery::BatchTicketUpdates => {
                assert_searches(&lines, "sqlite_autoindex_tickets_1", what);
            }
            StoreQuery::BatchDuplicates => {
                assert_searches(&lines, "messages_client_msg_key", what);
            }
            StoreQuery::BatchFirstMessages => {
                assert_searches(&lines, "messages_first_message_idx", what);
            }
            // A range of positions past the mark, never a walk over the
            // messages; one probe of the erasure log per message.
            StoreQuery::SearchIndexing => {
                assert!(
                    lines
                        .iter()
                        .any(|l| l == "SEARCH m USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"),
                    "{what}: {lines:?}"
                );
                assert_searches(&lines, "sqlite_autoindex_search_erasures_1", what);
            }
            StoreQuery::BatchKnownIds => {
                assert_searches(&lines, "sqlite_autoindex_users_1", what);
                assert_searches(&lines, "sqlite_autoindex_categories_1", what);
                assert_searches(&lines, "sqlite_autoindex_messages_1", what);
            }
            _ => {}
        }
    }

    // The message side of a chat.
    let id_text = id.0.hyphenated().to_string();
    for (what, sql, binds) in [
        (
            "receipts of a ticket",
            "EXPLAIN QUERY PLAN SELECT * FROM receipts WHERE ticket_id = ? ORDER BY user_id",
            vec![id_text.as_str()],
        ),
        (
            "visible messages after seq",
            "EXPLAIN QUERY PLAN SELECT * FROM messages WHERE ticket_id = ? AND seq > 5 \
             AND kind <> 'internal_note' ORDER BY seq LIMIT 50",
            vec![id_text.as_str()],
        ),
    ] {
        let lines = plan(&store, sql, &binds).await;
        assert_indexed(&lines, what);
    }
}

/// A ticket's audit trail (`list_audit` with `target_ticket`) searches the
/// partial index of migration 0006 and reads it in id order, first page and
/// later ones, also with the other filters of the audit listing.
#[tokio::test]
async fn ticket_audit_trail_uses_its_index() {
    use neurochat_core::domain::{AuditAction, AuditFilter, AuditId};
    use neurochat_storage_sqlx::sqlite::StoreQuery;

    let (_dir, store) = temp_store().await;
    let ticket = TicketId(Uuid::now_v7());
    let base = AuditFilter {
        target_ticket: Some(ticket),
        limit: 50,
        ..AuditFilter::default()
    };
    let cursor = Some(AuditId(Uuid::now_v7()));
    let filters = [
        ("first page", base.clone()),
        (
            "later page",
            AuditFilter {
                before: cursor,
                ..base.clone()
            },
        ),
        (
            "by action and time, later page",
            AuditFilter {
                action: Some(AuditAction::TicketClaimed),
                from: Some(time::OffsetDateTime::UNIX_EPOCH),
                before: cursor,
                ..base.clone()
            },
        ),
    ];
    for (what, filter) in filters {
        let lines = store
            .query_plan(StoreQuery::ListAudit(&filter))
            .await
            .unwrap();
        assert_no_table_scan(&lines, what);
        if filter.action.is_none() {
            assert_searches(&lines, "audit_log_ticket_idx", what);
            assert!(
                !lines.iter().any(|l| l.contains("TEMP B-TREE")),
                "{what}: sorts instead of reading in index order: {lines:?}"
            );
        }
    }
}
