//! Opening SQLite files and in-memory stores: connection settings, idempotent
//! migrations, and the upgrade of an 0001 database by migration 0002.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use neurochat_core::domain::{InsertMessage, MessageKind, Role, TicketId, UserFilter};
use neurochat_core::ports::{MessageStore, Store, StoreError, TicketStore, UserStore};
use neurochat_storage_sqlx::SqliteStore;
use neurochat_storage_sqlx::sqlite::MIGRATOR;
use time::OffsetDateTime;
use uuid::Uuid;

use support::*;

// ---------------------------------------------------------------- opening

#[tokio::test]
async fn open_creates_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    assert!(!path.exists());
    let store = SqliteStore::open(&path).await.unwrap();
    store.ping().await.unwrap();
    assert!(path.exists());
}

#[tokio::test]
async fn open_does_not_create_missing_parent_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("new.db");
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert!(!dir.path().join("no-such-dir").exists());
}

#[tokio::test]
async fn connections_use_wal_foreign_keys_busy_timeout_and_normal_sync() {
    let (_dir, store) = temp_store().await;
    // Check several pooled connections, not just the first one.
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(store.pool().acquire().await.unwrap());
    }
    for conn in &mut conns {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(busy, 5000);
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(sync, 1, "synchronous = NORMAL");
    }
}

#[tokio::test]
async fn reopening_migrates_idempotently_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.db");
    let u = fresh_user();
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.insert_user(&u).await.unwrap();
        store.pool().close().await;
    }
    for _ in 0..2 {
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.fetch_user(u.id).await.unwrap(), Some(u.clone()));
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(applied as usize, MIGRATOR.iter().count());
        store.pool().close().await;
    }
}

#[tokio::test]
async fn from_pool_migrates_a_caller_built_pool() {
    let dir = tempfile::tempdir().unwrap();
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("pool.db"))
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(opts)
        .await
        .unwrap();
    let store = SqliteStore::from_pool(pool).await.unwrap();
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    assert_eq!(
        store
            .fetch_user_by_email(u.email_normalized.as_deref().unwrap())
            .await
            .unwrap(),
        Some(u)
    );
}

#[tokio::test]
async fn in_memory_store_is_one_database_across_calls_and_tasks() {
    let store = Arc::new(SqliteStore::open_in_memory().await.unwrap());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let u = fresh_user();
            store.insert_user(&u).await.unwrap();
            u.id
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    for id in ids {
        assert!(store.fetch_user(id).await.unwrap().is_some());
    }
    let page = store
        .list_users(&UserFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 8);
}

/// Runs only migration 0001, as an older release left the file.
async fn open_at_0001(path: &std::path::Path) -> sqlx::SqlitePool {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap();
    MIGRATOR.run_to(1, &pool).await.unwrap();
    pool
}

#[tokio::test]
async fn migration_0002_upgrades_a_0001_database_with_tickets() {
    use neurochat_core::domain::{TicketFilter, TicketSort};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let pool = open_at_0001(&path).await;
    let has_0002: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(has_0002, 1, "only 0001 applied");

    // Rows as the 0001 code wrote them.
    let customer = fresh_user();
    let mut agent = fresh_user();
    agent.role = Role::Agent;
    for u in [&customer, &agent] {
        sqlx::query(
            "INSERT INTO users (id, email, email_normalized, display_name, display_name_key, \
             password_hash, role, disabled, external_id, verified, contact_email, availability, \
             capacity, created_at, updated_at, version) \
             VALUES (?, ?, ?, ?, ?, NULL, ?, 0, NULL, 1, NULL, 'offline', 0, 1000, 1000, 1)",
        )
        .bind(u.id.0.hyphenated().to_string())
        .bind(u.email.clone())
        .bind(u.email_normalized.clone())
        .bind(u.display_name.clone())
        .bind(u.display_name.to_lowercase())
        .bind(u.role.as_str())
        .execute(&pool)
        .await
        .unwrap();
    }
    let tag = Uuid::new_v4().simple().to_string();
    let tickets = [
        // (number, status, priority, messages (kind, author is agent, body, at))
        (
            1,
            "new",
            "urgent",
            vec![("customer", false, "printer jammed", 10_000)],
        ),
        (
            2,
            "in_progress",
            "low",
            vec![
                ("customer", false, "refund please", 20_000),
                ("agent", true, "refund sent", 21_000),
                ("internal_note", true, "checked the ledger", 22_000),
                ("customer", false, "not arrived", 23_000),
                ("customer", false, "still nothing", 24_000),
            ],
        ),
        (
            3,
            "closed",
            "high",
            vec![
                ("customer", false, "password reset", 30_000),
                ("agent", true, "done", 31_000),
            ],
        ),
    ];
    let mut ids = Vec::new();
    for (number, status, priority, messages) in &tickets {
        let tid = Uuid::now_v7().hyphenated().to_string();
        let last = messages.last().unwrap().3;
        sqlx::query(
            "INSERT INTO tickets (id, number, subject, customer_id, category_id, priority, status, \
             assignee_id, created_at, updated_at, first_response_at, resolved_at, last_seq, version) \
             VALUES (?, ?, ?, ?, NULL, ?, ?, NULL, ?, ?, NULL, NULL, ?, 1)",
        )
        .bind(&tid)
        .bind(number)
        .bind(format!("Old ticket {number} {tag}"))
        .bind(customer.id.0.hyphenated().to_string())
        .bind(priority)
        .bind(status)
        .bind(messages[0].3)
        .bind(last)
        .bind(messages.len() as i64)
        .execute(&pool)
        .await
        .unwrap();
        for (i, (kind, by_agent, body, at)) in messages.iter().enumerate() {
            let author = if *by_agent { agent.id } else { customer.id };
            sqlx::query(
                "INSERT INTO messages (id, ticket_id, seq, author_id, kind, body, client_msg_id, \
                 created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(Uuid::now_v7().hyphenated().to_string())
            .bind(&tid)
            .bind(i as i64 + 1)
            .bind(author.0.hyphenated().to_string())
            .bind(kind)
            .bind(format!("{body} {tag}"))
            // 0001 let a resent "open ticket" open two tickets with one key.
            .bind((i == 0 && *number <= 2).then_some("open-1"))
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        }
        ids.push(TicketId(Uuid::parse_str(&tid).unwrap()));
    }
    sqlx::query("UPDATE counters SET value = 3 WHERE name = 'ticket_number'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    // The current release opens it: 0002 applies on top.
    let store = SqliteStore::open(&path).await.unwrap();
    let ms = |v: i64| OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000).unwrap();
    let t1 = store.fetch_ticket(ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (t1.last_seq, t1.last_agent_seq, t1.customer_notified_seq),
        (1, 0, 0)
    );
    assert_eq!(t1.awaiting_since, Some(ms(10_000)));
    assert_eq!(t1.last_agent_message_at, None);
    assert_eq!((t1.closed_at, t1.escalated_new_at), (None, None));
    assert_eq!(t1.escalated_awaiting_since, None);
    let t2 = store.fetch_ticket(ids[1]).await.unwrap().unwrap();
    assert_eq!((t2.last_seq, t2.last_agent_seq), (5, 2));
    assert_eq!(t2.last_agent_message_at, Some(ms(21_000)));
    // Unanswered since the first customer message after the agent's reply.
    assert_eq!(t2.awaiting_since, Some(ms(23_000)));
    // Replies from before the upgrade count as notified.
    assert_eq!(t2.customer_notified_seq, 2);
    let t3 = store.fetch_ticket(ids[2]).await.unwrap().unwrap();
    assert_eq!(t3.awaiting_since, None);
    assert_eq!(t3.closed_at, Some(t3.updated_at));
    assert_eq!(t3.version, 1);

    // priority_rank from priority: urgent, high, low.
    let by_priority = store
        .list_tickets(&TicketFilter {
            customer_id: Some(customer.id),
            sort: TicketSort::PriorityDesc,
            ..ticket_filter()
        })
        .await
        .unwrap();
    assert_eq!(
        by_priority.iter().map(|t| t.number).collect::<Vec<_>>(),
        [1, 3, 2]
    );
    // Old subjects and messages are searchable; internal notes only for staff.
    let search = |text: String, include_internal: bool| {
        let store = &store;
        async move {
            let mut numbers: Vec<i64> = store
                .list_tickets(&TicketFilter {
                    text: Some(text),
                    include_internal,
                    ..ticket_filter()
                })
                .await
                .unwrap()
                .iter()
                .map(|t| t.number)
                .collect();
            numbers.sort_unstable();
            numbers
        }
    };
    assert_eq!(search(format!("old {tag}"), false).await, [1, 2, 3]);
    assert_eq!(search(format!("jam {tag}"), false).await, [1]);
    assert_eq!(search(format!("refund sent {tag}"), false).await, [2]);
    assert_eq!(
        search(format!("ledger {tag}"), false).await,
        Vec::<i64>::new()
    );
    assert_eq!(search(format!("ledger {tag}"), true).await, [2]);
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM search.ticket_search WHERE ticket_search MATCH ?")
            .bind(format!("\"{tag}\""))
            .fetch_one(store.search_pool())
            .await
            .unwrap();
    assert_eq!(rows, 3 + 8, "3 subjects and 8 messages backfilled");

    // New messages continue the old tickets with the 0002 effects.
    let mut reply = message(ids[1], Some(agent.id), None);
    reply.kind = MessageKind::Agent;
    reply.body = format!("arrived now {tag}");
    let InsertMessage::Inserted {
        message: m,
        ticket: t2,
        ..
    } = store.insert_message(&reply).await.unwrap()
    else {
        panic!("inserted");
    };
    assert_eq!((m.seq, t2.last_agent_seq, t2.awaiting_since), (6, 6, None));
    assert_eq!(search(format!("arrived {tag}"), false).await, [2]);
    // The closed one stays closed.
    let err = store
        .insert_message(&message(ids[2], Some(customer.id), None))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    // The duplicate first-message key 0001 allowed did not stop the
    // migration; the original is the older ticket, and the key stays taken.
    let (orig, first) = store
        .fetch_ticket_by_first_message(customer.id, "open-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((orig.id, first.seq), (ids[0], 1));
    let mut resent = message(TicketId(Uuid::nil()), Some(customer.id), Some("open-1"));
    resent.kind = MessageKind::Customer;
    assert_unique(
        store
            .insert_ticket_with_first_message(&ticket(customer.id), &resent)
            .await,
        "tickets.first_message",
    );
    // And ticket numbers continue.
    let (t4, _) = store
        .insert_ticket_with_first_message(
            &ticket(customer.id),
            &message(TicketId(Uuid::nil()), Some(customer.id), None),
        )
        .await
        .unwrap();
    assert_eq!(t4.number, 4);
}
