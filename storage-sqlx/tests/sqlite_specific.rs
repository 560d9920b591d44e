//! Behaviour specific to the SQLite store: opening and migrating files,
//! connection settings, query plans, constraint mapping, and the races of the
//! store contract on a real multi-connection (file) pool.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::Arc;

use neurochat_core::domain::{
    AuditAction, AuditEntry, AuditFilter, AuditId, Availability, Category, CategoryId,
    InsertMessage, MessageId, MessageKind, NewMessage, OutboxId, OutboxMessage, Priority,
    RefreshToken, Role, RotateOutcome, Session, SessionId, SessionKind, Ticket, TicketId,
    TicketStatus, TokenId, User, UserFilter, UserId,
};
use neurochat_core::ports::{
    AuditStore, CategoryStore, MessageStore, OutboxStore, SessionStore, Store, StoreError,
    TicketStore, UserStore, truncate_millis,
};
use neurochat_storage_sqlx::SqliteStore;
use neurochat_storage_sqlx::sqlite::MIGRATOR;
use sqlx::Row;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

// ---------------------------------------------------------------- helpers

fn now() -> OffsetDateTime {
    truncate_millis(OffsetDateTime::now_utc())
}

fn user(email: &str, display_name: &str) -> User {
    let t = now();
    User {
        id: UserId(Uuid::now_v7()),
        email: Some(email.to_owned()),
        email_normalized: Some(email.to_lowercase()),
        display_name: display_name.to_owned(),
        password_hash: Some("$argon2id$stub".to_owned()),
        role: Role::Customer,
        disabled: false,
        external_id: None,
        verified: true,
        contact_email: None,
        availability: Availability::Offline,
        capacity: 0,
        created_at: t,
        updated_at: t,
        version: 1,
    }
}

fn fresh_user() -> User {
    let id = Uuid::new_v4().simple().to_string();
    user(&format!("u-{id}@example.com"), &format!("User {id}"))
}

fn session(user_id: UserId) -> Session {
    let t = now();
    Session {
        id: SessionId(Uuid::now_v7()),
        user_id,
        kind: SessionKind::Password,
        secret_hash: None,
        created_at: t,
        expires_at: t + Duration::days(30),
        revoked_at: None,
        revoke_reason: None,
    }
}

fn refresh(s: &Session) -> RefreshToken {
    let t = now();
    RefreshToken {
        id: TokenId(Uuid::now_v7()),
        session_id: s.id,
        user_id: s.user_id,
        secret_hash: vec![7; 32],
        issued_at: t,
        expires_at: t + Duration::days(7),
        rotated_at: None,
    }
}

fn ticket(customer_id: UserId) -> Ticket {
    let t = now();
    Ticket {
        id: TicketId(Uuid::now_v7()),
        number: 0,
        subject: "Help".to_owned(),
        customer_id,
        category_id: None,
        priority: Priority::Normal,
        status: TicketStatus::New,
        assignee_id: None,
        created_at: t,
        updated_at: t,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        last_seq: 0,
        awaiting_since: None,
        last_agent_seq: 0,
        last_agent_message_at: None,
        customer_notified_seq: 0,
        escalated_new_at: None,
        escalated_awaiting_since: None,
        version: 1,
    }
}

fn message(
    ticket_id: TicketId,
    author_id: Option<UserId>,
    client_msg_id: Option<&str>,
) -> NewMessage {
    NewMessage {
        id: MessageId(Uuid::now_v7()),
        ticket_id,
        author_id,
        kind: if author_id.is_some() {
            MessageKind::Customer
        } else {
            MessageKind::System
        },
        body: "hello".to_owned(),
        client_msg_id: client_msg_id.map(str::to_owned),
        created_at: now(),
    }
}

fn mail(created_at: OffsetDateTime, due: OffsetDateTime) -> OutboxMessage {
    OutboxMessage {
        id: OutboxId(Uuid::now_v7()),
        recipient: "ann@example.com".to_owned(),
        subject: "Reset".to_owned(),
        body: "secret link".to_owned(),
        created_at,
        attempts: 0,
        next_attempt_at: due,
        last_error: None,
        sent_at: None,
    }
}

fn category(name: &str) -> Category {
    Category {
        id: CategoryId(Uuid::now_v7()),
        name: name.to_owned(),
        archived: false,
        created_at: now(),
    }
}

fn audit(actor_id: Option<UserId>) -> AuditEntry {
    AuditEntry {
        id: AuditId(Uuid::now_v7()),
        at: now(),
        actor_id,
        action: AuditAction::LoginSucceeded,
        target_type: None,
        target_id: None,
        source_ip: None,
        detail: None,
    }
}

async fn temp_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("neurochat.db"))
        .await
        .unwrap();
    (dir, store)
}

fn assert_unique<T: std::fmt::Debug>(res: Result<T, StoreError>, constraint: &str) {
    match res {
        Err(StoreError::UniqueViolation { constraint: c }) if c == constraint => {}
        other => panic!("expected UniqueViolation on {constraint}, got {other:?}"),
    }
}

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
        (
            "tickets of a customer",
            "EXPLAIN QUERY PLAN SELECT * FROM tickets WHERE customer_id = ? ORDER BY updated_at DESC, id DESC LIMIT 50",
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

// ---------------------------------------------------------------- constraints

#[tokio::test]
async fn unique_and_foreign_key_violations_map_to_store_errors() {
    let (_dir, store) = temp_store().await;
    let a = fresh_user();
    store.insert_user(&a).await.unwrap();

    assert_unique(store.insert_user(&a).await, "users.id");
    let mut same_email = fresh_user();
    same_email.email_normalized = a.email_normalized.clone();
    assert_unique(store.insert_user(&same_email).await, "users.email");

    let mut ext1 = fresh_user();
    ext1.external_id = Some("host-42".to_owned());
    store.insert_user(&ext1).await.unwrap();
    let mut ext2 = fresh_user();
    ext2.external_id = Some("host-42".to_owned());
    assert_unique(store.insert_user(&ext2).await, "users.external_id");

    // Many users without email or external id.
    for _ in 0..3 {
        let mut v = fresh_user();
        v.email = None;
        v.email_normalized = None;
        store.insert_user(&v).await.unwrap();
    }

    // Unicode-aware case folding (SQLite's NOCASE would only fold ASCII).
    store.insert_category(&category("Ärger")).await.unwrap();
    assert_unique(
        store.insert_category(&category("äRGER")).await,
        "categories.name",
    );

    // Unknown customer → foreign key.
    let orphan = ticket(UserId(Uuid::now_v7()));
    let first = message(orphan.id, None, None);
    let err = store
        .insert_ticket_with_first_message(&orphan, &first)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ForeignKey), "{err:?}");
    let err = store
        .insert_session(&session(UserId(Uuid::now_v7())), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ForeignKey), "{err:?}");

    // The failed ticket insert rolled back its number: the next ticket gets 1.
    let (t, _) = store
        .insert_ticket_with_first_message(
            &ticket(a.id),
            &message(TicketId(Uuid::nil()), Some(a.id), None),
        )
        .await
        .unwrap();
    assert_eq!(t.number, 1);
}

#[tokio::test]
async fn audit_actor_needs_no_user_row() {
    let (_dir, store) = temp_store().await;
    let ghost = UserId(Uuid::now_v7());
    store.insert_audit(&audit(Some(ghost))).await.unwrap();
    let page = store
        .list_audit(&AuditFilter {
            actor_id: Some(ghost),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
}

#[tokio::test]
async fn system_messages_are_idempotent_too() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let (t, _) = store
        .insert_ticket_with_first_message(
            &ticket(u.id),
            &message(TicketId(Uuid::nil()), Some(u.id), None),
        )
        .await
        .unwrap();
    let first = store
        .insert_message(&message(t.id, None, Some("sys-1")))
        .await
        .unwrap();
    let again = store
        .insert_message(&message(t.id, None, Some("sys-1")))
        .await
        .unwrap();
    assert!(matches!(first, InsertMessage::Inserted { .. }));
    assert_eq!(again, InsertMessage::Duplicate(first.message().clone()));
    // The partial unique index backs the check up at the database level.
    let raw = sqlx::query(
        "INSERT INTO messages (id, ticket_id, seq, author_id, kind, body, client_msg_id, created_at) \
         VALUES (?, ?, 99, NULL, 'system', 'x', 'sys-1', 0)",
    )
    .bind(Uuid::now_v7().hyphenated().to_string())
    .bind(t.id.0.hyphenated().to_string())
    .execute(store.pool())
    .await
    .unwrap_err();
    assert!(raw.as_database_error().unwrap().is_unique_violation());
}

#[tokio::test]
async fn search_escapes_like_wildcards_and_folds_unicode() {
    let (_dir, store) = temp_store().await;
    let tag = Uuid::new_v4().simple().to_string();
    let plain = user(&format!("plain-{tag}@example.com"), &format!("École {tag}"));
    let pct = user(&format!("pct-{tag}@example.com"), &format!("100% {tag}"));
    let under = user(&format!("under_{tag}@example.com"), &format!("Under {tag}"));
    for u in [&plain, &pct, &under] {
        store.insert_user(u).await.unwrap();
    }
    let search = |s: String| {
        let store = &store;
        async move {
            store
                .list_users(&UserFilter {
                    search: Some(s),
                    limit: 50,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_iter()
                .map(|u| u.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search(format!("ÉCOLE {tag}")).await, vec![plain.id]);
    assert_eq!(search(format!("0% {tag}")).await, vec![pct.id]);
    assert_eq!(search(format!("r_{tag}")).await, vec![under.id]);
    assert_eq!(search(format!("%{tag}")).await, Vec::<UserId>::new());
}

// ---------------------------------------------------------------- races on a file pool

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_of_one_token_rotate_once() {
    let (_dir, store) = temp_store().await;
    let store = Arc::new(store);
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let s = session(u.id);
    let t = refresh(&s);
    store.insert_session(&s, Some(&t)).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        let succ = refresh(&s);
        tasks.push(tokio::spawn(async move {
            store.rotate_refresh_token(t.id, &succ, now()).await
        }));
    }
    let mut rotated = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            RotateOutcome::Rotated => rotated += 1,
            RotateOutcome::Reused { session_id, .. } => assert_eq!(session_id, s.id),
            RotateOutcome::SessionInactive => panic!("the session was active"),
        }
    }
    assert_eq!(rotated, 1);
    // Presenting the rotated token again revoked the family.
    let s = store.fetch_session(s.id).await.unwrap().unwrap();
    assert_eq!(s.revoke_reason.as_deref(), Some("refresh_token_reused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_get_gapless_seqs_and_unique_numbers() {
    let (_dir, store) = temp_store().await;
    let store = Arc::new(store);
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let (t, _) = store
        .insert_ticket_with_first_message(
            &ticket(u.id),
            &message(TicketId(Uuid::nil()), Some(u.id), None),
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = store.clone();
        let author = u.id;
        let ticket_id = t.id;
        tasks.push(tokio::spawn(async move {
            // Every message twice with the same key: the second is a duplicate.
            let key = format!("c-{i}");
            let a = store
                .insert_message(&message(ticket_id, Some(author), Some(&key)))
                .await
                .unwrap();
            let b = store
                .insert_message(&message(ticket_id, Some(author), Some(&key)))
                .await
                .unwrap();
            assert_eq!(b, InsertMessage::Duplicate(a.message().clone()));
            // And a new ticket now and then.
            let n = store
                .insert_ticket_with_first_message(
                    &ticket(author),
                    &message(TicketId(Uuid::nil()), Some(author), None),
                )
                .await
                .unwrap()
                .0
                .number;
            (a.message().seq, n)
        }));
    }
    let mut seqs = Vec::new();
    let mut numbers = HashSet::new();
    for task in tasks {
        let (seq, n) = task.await.unwrap();
        seqs.push(seq);
        assert!(numbers.insert(n), "ticket number {n} handed out twice");
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=33).collect::<Vec<i64>>());
    assert_eq!(numbers.len(), 32);
    assert_eq!(
        store.fetch_ticket(t.id).await.unwrap().unwrap().last_seq,
        33
    );
    let all = store
        .list_messages_after(t.id, 0, 1000, true)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=33).collect::<Vec<i64>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_outbox_claims_never_share_a_mail() {
    let (_dir, store) = temp_store().await;
    let store = Arc::new(store);
    let t0 = now();
    let mut ids = HashSet::new();
    for i in 0..40 {
        let m = mail(t0 + Duration::milliseconds(i), t0);
        ids.insert(m.id);
        store.insert_outbox(&m).await.unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_outbox(t0, t0 + Duration::minutes(5), 3)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                for m in &batch {
                    assert_eq!(m.attempts, 1);
                    assert_eq!(m.next_attempt_at, t0 + Duration::minutes(5));
                }
                mine.extend(batch.into_iter().map(|m| m.id));
            }
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    assert_eq!(claimed.len(), 40, "every mail claimed exactly once");
    assert_eq!(claimed.into_iter().collect::<HashSet<_>>(), ids);
}

#[tokio::test]
async fn timestamps_keep_millisecond_precision() {
    let (_dir, store) = temp_store().await;
    let mut u = fresh_user();
    u.created_at = OffsetDateTime::from_unix_timestamp_nanos(1_234_567_890_123_000_000).unwrap();
    u.updated_at = OffsetDateTime::from_unix_timestamp_nanos(-86_400_001_000_000).unwrap();
    store.insert_user(&u).await.unwrap();
    assert_eq!(store.fetch_user(u.id).await.unwrap(), Some(u.clone()));
    let raw: i64 = sqlx::query_scalar("SELECT created_at FROM users WHERE id = ?")
        .bind(u.id.0.hyphenated().to_string())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(raw, 1_234_567_890_123);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_opens_of_one_file_all_succeed() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.db");
        let opens = (0..4).map(|_| {
            let path = path.clone();
            tokio::spawn(async move { SqliteStore::open(path).await })
        });
        for open in opens.collect::<Vec<_>>() {
            let store = open.await.unwrap().unwrap();
            store.ping().await.unwrap();
        }
    }
}

#[tokio::test]
async fn failed_atomic_writes_leave_nothing_behind() {
    // One pooled connection: a transaction left open by an error path would
    // make the next call fail or see uncommitted rows.
    let store = SqliteStore::open_in_memory().await.unwrap();
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();

    // A ticket whose first message clashes is not stored, nor is its number used.
    let first = message(TicketId(Uuid::nil()), Some(u.id), None);
    let (a, _) = store
        .insert_ticket_with_first_message(&ticket(u.id), &first)
        .await
        .unwrap();
    let b = ticket(u.id);
    let clash = store.insert_ticket_with_first_message(&b, &first).await;
    assert_unique(clash, "messages.id");
    assert_eq!(store.fetch_ticket(b.id).await.unwrap(), None);
    let (c, _) = store
        .insert_ticket_with_first_message(
            &ticket(u.id),
            &message(TicketId(Uuid::nil()), Some(u.id), None),
        )
        .await
        .unwrap();
    assert_eq!(c.number, a.number + 1);

    // A reset token whose mail clashes is not stored.
    let t0 = now();
    let m = mail(t0, t0);
    store.insert_outbox(&m).await.unwrap();
    let token = neurochat_core::domain::ResetToken {
        id: TokenId(Uuid::now_v7()),
        user_id: u.id,
        secret_hash: vec![1; 32],
        created_at: t0,
        expires_at: t0 + Duration::hours(1),
        used_at: None,
    };
    assert_unique(store.insert_reset_token(&token, &m).await, "outbox.id");
    assert_eq!(store.fetch_reset_token(token.id).await.unwrap(), None);

    // A session whose first refresh token belongs elsewhere is not stored.
    let s = session(u.id);
    let mut t = refresh(&s);
    t.session_id = SessionId(Uuid::now_v7());
    let err = store.insert_session(&s, Some(&t)).await.unwrap_err();
    assert!(matches!(err, StoreError::ForeignKey), "{err:?}");
    assert_eq!(store.fetch_session(s.id).await.unwrap(), None);

    // The single connection is healthy afterwards.
    let s = session(u.id);
    store.insert_session(&s, Some(&refresh(&s))).await.unwrap();
    assert!(store.fetch_session(s.id).await.unwrap().is_some());
}

// ---------------------------------------------------------------- tickets and chat (migration 0002)

/// No step of `lines` reads a table row by row: every table access is an
/// index search or an index-ordered scan (the FTS5 table is searched through
/// its own full-text index: `SCAN ticket_search VIRTUAL TABLE INDEX …`).
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

fn ticket_filter() -> neurochat_core::domain::TicketFilter {
    neurochat_core::domain::TicketFilter {
        limit: 50,
        ..Default::default()
    }
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
                    .any(|l| l.starts_with("SCAN ticket_search VIRTUAL TABLE INDEX")),
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
    // A customer's tickets page by page, and an agent's open queue: one
    // index gives both the filter and the order.
    for (what, filter, index) in [
        (
            "customer page",
            TicketFilter {
                customer_id: Some(user_id),
                after: Some(TicketCursor { key: 5, id }),
                ..ticket_filter()
            },
            "tickets_customer_idx",
        ),
        (
            "agent queue",
            TicketFilter {
                statuses: vec![TicketStatus::New, TicketStatus::InProgress],
                assignee: AssigneeFilter::User(user_id),
                ..ticket_filter()
            },
            "tickets_assignee_idx",
        ),
    ] {
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
                assert_searches(&lines, "messages_author_idx", what);
                assert_searches(&lines, "tickets_customer_idx", what);
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
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ticket_search WHERE body LIKE ?")
        .bind(format!("%{tag}%"))
        .fetch_one(store.pool())
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

/// Numbers of the tickets matching `text` among `customer`'s.
async fn search_numbers(
    store: &SqliteStore,
    customer: UserId,
    text: &str,
    include_internal: bool,
) -> Vec<i64> {
    let mut numbers: Vec<i64> = store
        .list_tickets(&neurochat_core::domain::TicketFilter {
            customer_id: Some(customer),
            text: Some(text.to_owned()),
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

#[tokio::test]
async fn text_search_matches_word_prefixes_within_one_subject_or_message() {
    let (_dir, store) = temp_store().await;
    let customer = fresh_user();
    store.insert_user(&customer).await.unwrap();
    let mut agent = fresh_user();
    agent.role = Role::Agent;
    store.insert_user(&agent).await.unwrap();
    let open = |subject: &str, body: &str| {
        let mut t = ticket(customer.id);
        t.subject = subject.to_owned();
        let mut m = message(TicketId(Uuid::nil()), Some(customer.id), None);
        m.body = body.to_owned();
        let store = &store;
        async move {
            store
                .insert_ticket_with_first_message(&t, &m)
                .await
                .unwrap()
                .0
        }
    };
    let a = open("Printer on fire", "Smoke everywhere, école fermée").await;
    let b = open("Invoice question", "Why was I charged twice?").await;
    let c = open("Other", "\"quoted\" OR * NEAR(x) - col:umn").await;
    let mut note = message(b.id, Some(agent.id), None);
    note.kind = MessageKind::InternalNote;
    note.body = "Customer is a VIP, refund quickly".to_owned();
    store.insert_message(&note).await.unwrap();
    let (na, nb, nc) = (a.number, b.number, c.number);
    let s =
        |text: &'static str, internal: bool| search_numbers(&store, customer.id, text, internal);

    assert_eq!(s("printer", false).await, [na], "subject");
    assert_eq!(s("PRINT fir", false).await, [na], "prefixes, any case");
    assert_eq!(s("smoke ECOLE", false).await, [na], "diacritics folded");
    assert_eq!(s("ferm", false).await, [na]);
    assert_eq!(
        s("moke", false).await,
        Vec::<i64>::new(),
        "word prefixes only"
    );
    assert_eq!(s("charged twice", false).await, [nb]);
    // Every word in one row: "printer" (subject) + "smoke" (message) is not a match.
    assert_eq!(s("printer smoke", false).await, Vec::<i64>::new());
    // Internal notes only for staff.
    assert_eq!(s("vip refund", false).await, Vec::<i64>::new());
    assert_eq!(s("vip refund", true).await, [nb]);
    // FTS5 syntax in the text is just words.
    assert_eq!(s("\"quoted\" OR", false).await, [nc]);
    assert_eq!(s("near(x) col:umn", false).await, [nc]);
    assert_eq!(
        s("* - \"", false).await.len(),
        3,
        "no words: no text filter"
    );
    assert_eq!(s("\" OR 1=1 --", false).await, Vec::<i64>::new());
}

#[tokio::test]
async fn messages_outside_a_committed_insert_never_reach_the_index() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let tag = Uuid::new_v4().simple().to_string();
    let mut first = message(TicketId(Uuid::nil()), Some(u.id), None);
    first.body = format!("first {tag}");
    let (t, _) = store
        .insert_ticket_with_first_message(&ticket(u.id), &first)
        .await
        .unwrap();
    // A duplicate, a message on a closed ticket and one by an unknown author
    // store nothing: no message row, no search row.
    let mut keyed = message(t.id, Some(u.id), Some("k-1"));
    keyed.body = format!("keyed {tag}");
    store.insert_message(&keyed).await.unwrap();
    let mut again = message(t.id, Some(u.id), Some("k-1"));
    again.body = format!("again {tag}");
    assert!(matches!(
        store.insert_message(&again).await.unwrap(),
        InsertMessage::Duplicate(_)
    ));
    let mut ghost = message(t.id, Some(UserId(Uuid::now_v7())), None);
    ghost.body = format!("ghost {tag}");
    let err = store.insert_message(&ghost).await.unwrap_err();
    assert!(matches!(err, StoreError::ForeignKey), "{err:?}");
    let mut closed = store.fetch_ticket(t.id).await.unwrap().unwrap();
    closed.status = TicketStatus::Closed;
    closed.closed_at = Some(now());
    closed.version += 1;
    store
        .update_ticket(&closed, closed.version - 1, None)
        .await
        .unwrap();
    let mut late = message(t.id, Some(u.id), None);
    late.body = format!("late {tag}");
    let err = store.insert_message(&late).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");

    let indexed: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM ticket_search WHERE ticket_id = ? AND kind <> 'subject' ORDER BY rowid",
    )
    .bind(t.id.0.hyphenated().to_string())
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(indexed, [format!("first {tag}"), format!("keyed {tag}")]);
    let after = store.fetch_ticket(t.id).await.unwrap().unwrap();
    assert_eq!(after.last_seq, 2);
}

#[tokio::test]
async fn erasure_removes_texts_from_rows_and_search_index() {
    use neurochat_core::domain::TicketFilter;

    let (_dir, store) = temp_store().await;
    let customer = fresh_user();
    store.insert_user(&customer).await.unwrap();
    let mut agent = fresh_user();
    agent.role = Role::Agent;
    store.insert_user(&agent).await.unwrap();
    let s = session(customer.id);
    store.insert_session(&s, Some(&refresh(&s))).await.unwrap();
    let tag = Uuid::new_v4().simple().to_string();
    let mut t = ticket(customer.id);
    t.subject = format!("Secret subject {tag}");
    let mut first = message(TicketId(Uuid::nil()), Some(customer.id), None);
    first.body = format!("my address {tag}");
    let (t, _) = store
        .insert_ticket_with_first_message(&t, &first)
        .await
        .unwrap();
    let mut reply = message(t.id, Some(agent.id), None);
    reply.kind = MessageKind::Agent;
    reply.body = format!("agent answer {tag}");
    store.insert_message(&reply).await.unwrap();

    let at = now();
    store
        .update_user_erased(customer.id, "[erased]", at)
        .await
        .unwrap();
    let erased = store.fetch_user(customer.id).await.unwrap().unwrap();
    assert_eq!(erased.display_name, "[erased]");
    assert_eq!((erased.email, erased.password_hash), (None, None));
    assert!(erased.disabled);
    assert_eq!(erased.version, customer.version + 1);
    assert_eq!(
        store
            .fetch_session(s.id)
            .await
            .unwrap()
            .unwrap()
            .revoke_reason
            .as_deref(),
        Some("erased")
    );
    let t_after = store.fetch_ticket(t.id).await.unwrap().unwrap();
    assert_eq!(t_after.subject, "[erased]");
    let msgs = store.list_messages_after(t.id, 0, 10, true).await.unwrap();
    assert_eq!(msgs[0].body, "[erased]");
    assert_eq!(
        msgs[1].body,
        format!("agent answer {tag}"),
        "not the customer's"
    );
    // Only the agent's message is left in the index; the placeholder is not indexed.
    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body FROM ticket_search WHERE ticket_id = ?")
            .bind(t.id.0.hyphenated().to_string())
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(bodies, [format!("agent answer {tag}")]);
    let find = |text: String| {
        let store = &store;
        async move {
            store
                .list_tickets(&TicketFilter {
                    text: Some(text),
                    ..ticket_filter()
                })
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(find(format!("secret {tag}")).await, 0);
    assert_eq!(find(format!("address {tag}")).await, 0);
    assert_eq!(find(format!("answer {tag}")).await, 1);
    let err = store
        .update_user_erased(UserId(Uuid::now_v7()), "[erased]", at)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

#[tokio::test]
async fn receipts_only_move_forward_and_need_their_rows() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let (t, _) = store
        .insert_ticket_with_first_message(
            &ticket(u.id),
            &message(TicketId(Uuid::nil()), Some(u.id), None),
        )
        .await
        .unwrap();
    let t0 = now();
    let r = store.update_receipt(t.id, u.id, 1, 3, t0).await.unwrap();
    assert_eq!((r.delivered_seq, r.read_seq, r.updated_at), (3, 3, t0));
    let t1 = t0 + Duration::seconds(1);
    let r = store.update_receipt(t.id, u.id, 2, 1, t1).await.unwrap();
    assert_eq!(
        (r.delivered_seq, r.read_seq, r.updated_at),
        (3, 3, t0),
        "nothing moved"
    );
    let r = store.update_receipt(t.id, u.id, 5, 0, t1).await.unwrap();
    assert_eq!((r.delivered_seq, r.read_seq, r.updated_at), (5, 3, t1));
    assert_eq!(store.list_receipts(t.id).await.unwrap(), vec![r]);
    for (ticket_id, user_id) in [
        (TicketId(Uuid::now_v7()), u.id),
        (t.id, UserId(Uuid::now_v7())),
    ] {
        let err = store
            .update_receipt(ticket_id, user_id, 1, 1, t0)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::ForeignKey), "{err:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_with_one_first_message_key_store_one_ticket() {
    let (_dir, store) = temp_store().await;
    let store = Arc::new(store);
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let author = u.id;
            tokio::spawn(async move {
                store
                    .insert_ticket_with_first_message(
                        &ticket(author),
                        &message(TicketId(Uuid::nil()), Some(author), Some("open-7")),
                    )
                    .await
            })
        })
        .collect();
    let mut opened = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok((t, _)) => opened.push(t.id),
            Err(e) => assert_unique(Err::<(), _>(e), "tickets.first_message"),
        }
    }
    assert_eq!(opened.len(), 1, "exactly one open wins");
    let (found, first) = store
        .fetch_ticket_by_first_message(u.id, "open-7")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, first.ticket_id), (opened[0], opened[0]));
    let tickets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE customer_id = ?")
        .bind(u.id.0.hyphenated().to_string())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(tickets, 1, "the losers stored nothing");
    // The same key from another author is another ticket.
    let v = fresh_user();
    store.insert_user(&v).await.unwrap();
    store
        .insert_ticket_with_first_message(
            &ticket(v.id),
            &message(TicketId(Uuid::nil()), Some(v.id), Some("open-7")),
        )
        .await
        .unwrap();
}

// ---------------------------------------------------------------- group commit

/// A ticket of `customer` with its first message (seq 1), stored alone.
async fn open_ticket(store: &SqliteStore, customer: UserId) -> Ticket {
    store
        .insert_ticket_with_first_message(
            &ticket(customer),
            &message(TicketId(Uuid::nil()), Some(customer), None),
        )
        .await
        .unwrap()
        .0
}

fn message_of(kind: MessageKind, ticket_id: TicketId, author_id: Option<UserId>) -> NewMessage {
    NewMessage {
        kind,
        ..message(ticket_id, author_id, None)
    }
}

fn keyed(mut m: NewMessage, key: &str) -> NewMessage {
    m.client_msg_id = Some(key.to_owned());
    m
}

fn inserted(r: &Result<InsertMessage, StoreError>) -> (&neurochat_core::domain::Message, &Ticket) {
    match r {
        Ok(InsertMessage::Inserted { message, ticket }) => (message, ticket),
        other => panic!("expected Inserted, got {other:?}"),
    }
}

fn seqs(messages: &[neurochat_core::domain::Message]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

/// The ids of `customer`'s tickets whose subject or messages match `text`.
async fn matching(store: &SqliteStore, customer: UserId, text: &str) -> Vec<TicketId> {
    store
        .list_tickets(&neurochat_core::domain::TicketFilter {
            customer_id: Some(customer),
            text: Some(text.to_owned()),
            include_internal: true,
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_commit_200_concurrent_inserts_on_10_tickets_are_gapless_and_answered_each() {
    let (_dir, store) = temp_store().await;
    let store = Arc::new(store);
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let mut tickets = Vec::new();
    for _ in 0..10 {
        tickets.push(open_ticket(&store, u.id).await.id);
    }
    let before = store.tasks().group_commits();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = store.clone();
            let sent = keyed(
                message(tickets[i % 10], Some(u.id), None),
                &format!("c-{i}"),
            );
            tokio::spawn(async move {
                let got = store.insert_message(&sent).await.unwrap();
                (sent, got)
            })
        })
        .collect();
    let mut per_ticket: std::collections::HashMap<TicketId, Vec<i64>> = Default::default();
    for task in tasks {
        let (sent, got) = task.await.unwrap();
        let got = Ok(got);
        let (m, t) = inserted(&got);
        // Every caller gets its own message back, with its seq and the
        // ticket as that message left it.
        assert_eq!(*m, sent.with_seq(m.seq));
        assert_eq!((t.id, t.last_seq), (sent.ticket_id, m.seq));
        per_ticket.entry(sent.ticket_id).or_default().push(m.seq);
    }
    for id in &tickets {
        let mut got = per_ticket.remove(id).unwrap();
        got.sort_unstable();
        assert_eq!(got, (2..=21).collect::<Vec<i64>>(), "gapless, once each");
        let stored = store.list_messages_after(*id, 0, 100, true).await.unwrap();
        assert_eq!(seqs(&stored), (1..=21).collect::<Vec<i64>>());
        assert_eq!(store.fetch_ticket(*id).await.unwrap().unwrap().last_seq, 21);
    }
    let after = store.tasks().group_commits();
    assert_eq!(after.calls - before.calls, 200);
    assert!(
        after.transactions - before.transactions < 200,
        "concurrent calls share transactions: {before:?} -> {after:?}"
    );
    assert_eq!(after.replayed, before.replayed);
}

/// Every call of one batch gets its own outcome, as it would alone; only the
/// valid calls are stored, with their search rows and ticket effects.
#[tokio::test]
async fn group_commit_batch_gives_each_call_its_own_outcome() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    let mut a = fresh_user();
    a.role = Role::Agent;
    store.insert_user(&u).await.unwrap();
    store.insert_user(&a).await.unwrap();
    let t1 = open_ticket(&store, u.id).await;
    let t2 = open_ticket(&store, u.id).await;
    let closed = open_ticket(&store, u.id).await;
    let stored = store
        .insert_message(&keyed(message(t1.id, Some(u.id), None), "k-stored"))
        .await
        .unwrap();
    let stored_on_closed = store
        .insert_message(&keyed(message(closed.id, Some(u.id), None), "k-closed"))
        .await
        .unwrap();
    let mut c = store.fetch_ticket(closed.id).await.unwrap().unwrap();
    c.status = TicketStatus::Closed;
    c.closed_at = Some(now());
    c.version += 1;
    store.update_ticket(&c, c.version - 1, None).await.unwrap();
    let closed = store.fetch_ticket(closed.id).await.unwrap().unwrap();

    let tricky =
        "quote \" backslash \\ newline \n tab \t nul \0 bell \u{7} é ☃ 🦀 \u{2028} zzgroupword";
    let batch = [
        /* 0 */ keyed(message(t1.id, Some(u.id), None), "k-a"),
        /* 1 */ message_of(MessageKind::Agent, t2.id, Some(a.id)),
        /* 2 */ message(closed.id, Some(u.id), None),
        /* 3 */ message(TicketId(Uuid::now_v7()), Some(u.id), None),
        /* 4 */ keyed(message(t1.id, Some(u.id), None), "k-stored"),
        /* 5 */ keyed(message(t1.id, Some(u.id), None), "k-a"),
        /* 6 */ keyed(message(t1.id, None, None), "sys \"1\""),
        /* 7 */
        NewMessage {
            body: tricky.to_owned(),
            ..keyed(message(t1.id, Some(u.id), None), "k-\u{0}\"\\é")
        },
        /* 8 */ keyed(message(closed.id, Some(u.id), None), "k-closed"),
        /* 9 */
        NewMessage {
            body: "zzrefusedword".to_owned(),
            ..message(closed.id, None, None)
        },
        /* 10 */ message(t2.id, Some(u.id), None),
    ];
    let before = store.tasks().group_commits();
    // On this (current-thread) runtime the writer runs only once every call
    // is queued: one batch.
    let got = futures_util::future::join_all(batch.iter().map(|m| store.insert_message(m))).await;
    let after = store.tasks().group_commits();
    assert_eq!(
        after.transactions - before.transactions,
        1,
        "one transaction"
    );
    assert_eq!(after.calls - before.calls, batch.len() as u64);
    assert_eq!(after.replayed, before.replayed, "planned, not replayed");

    let (m0, t1_after0) = inserted(&got[0]);
    assert_eq!((m0.seq, t1_after0.last_seq), (3, 3));
    let (m1, t2_after1) = inserted(&got[1]);
    assert_eq!(m1.seq, 2);
    assert_eq!(t2_after1.first_response_at, Some(batch[1].created_at));
    assert_eq!(
        (t2_after1.last_agent_seq, t2_after1.awaiting_since),
        (2, None)
    );
    assert!(matches!(got[2], Err(StoreError::Conflict)), "{:?}", got[2]);
    assert!(matches!(got[3], Err(StoreError::NotFound)), "{:?}", got[3]);
    assert_eq!(
        got[4].as_ref().unwrap(),
        &InsertMessage::Duplicate(stored.message().clone()),
        "a stored original"
    );
    assert_eq!(
        got[5].as_ref().unwrap(),
        &InsertMessage::Duplicate(m0.clone()),
        "an original earlier in the batch"
    );
    let (m6, _) = inserted(&got[6]);
    assert_eq!(m6.seq, 4);
    let (m7, t1_after7) = inserted(&got[7]);
    assert_eq!(*m7, batch[7].with_seq(5));
    assert_eq!(t1_after7.last_seq, 5);
    assert_eq!(
        got[8].as_ref().unwrap(),
        &InsertMessage::Duplicate(stored_on_closed.message().clone()),
        "the key is checked before the ticket's status"
    );
    assert!(matches!(got[9], Err(StoreError::Conflict)), "{:?}", got[9]);
    let (m10, t2_after10) = inserted(&got[10]);
    assert_eq!(m10.seq, 3);
    assert_eq!(t2_after10.awaiting_since, Some(batch[10].created_at));

    // Stored: exactly the inserted ones, texts byte for byte.
    let on_t1 = store
        .list_messages_after(t1.id, 0, 100, true)
        .await
        .unwrap();
    assert_eq!(seqs(&on_t1), [1, 2, 3, 4, 5]);
    assert_eq!(on_t1[2..], [m0.clone(), m6.clone(), m7.clone()]);
    assert_eq!(on_t1[4].body, tricky);
    assert_eq!(on_t1[4].client_msg_id.as_deref(), Some("k-\u{0}\"\\é"));
    let on_t2 = store
        .list_messages_after(t2.id, 0, 100, true)
        .await
        .unwrap();
    assert_eq!(on_t2[1..], [m1.clone(), m10.clone()]);
    assert_eq!(
        store.fetch_ticket(t1.id).await.unwrap().unwrap(),
        *t1_after7
    );
    assert_eq!(
        store.fetch_ticket(t2.id).await.unwrap().unwrap(),
        *t2_after10
    );
    assert_eq!(
        store.fetch_ticket(closed.id).await.unwrap().unwrap(),
        closed
    );
    // With their search rows; the refused one has none.
    assert_eq!(matching(&store, u.id, "zzgroupword").await, vec![t1.id]);
    assert!(matching(&store, u.id, "zzrefusedword").await.is_empty());
    // A later call sees the batch.
    let next = store
        .insert_message(&message(t1.id, Some(u.id), None))
        .await
        .unwrap();
    assert_eq!(next.message().seq, 6);
}

/// What the set-based plan of a message-only batch leaves to SQLite (an
/// unknown author, a taken message id) and what it cannot foresee (here a
/// search row in the way) makes the batch replay one call at a time: still
/// one transaction, and only the failing calls fail.
#[tokio::test]
async fn group_commit_replays_a_batch_call_by_call_when_a_write_fails() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let t1 = open_ticket(&store, u.id).await;
    let t2 = open_ticket(&store, u.id).await;
    let t3 = open_ticket(&store, u.id).await;
    let taken = store
        .insert_message(&message(t2.id, Some(u.id), None))
        .await
        .unwrap();
    // A row where t3's next message's search row goes.
    sqlx::query("INSERT INTO ticket_search (rowid, ticket_id, kind, body) VALUES (?, ?, 'x', 'x')")
        .bind((t3.number << 32) + 2)
        .bind(t3.id.0.hyphenated().to_string())
        .execute(store.pool())
        .await
        .unwrap();
    let batch = [
        message(t1.id, Some(u.id), None),
        message(t1.id, Some(UserId(Uuid::now_v7())), None),
        NewMessage {
            id: taken.message().id,
            ..message(t1.id, Some(u.id), None)
        },
        message(t3.id, Some(u.id), None),
        message(t2.id, Some(u.id), None),
    ];
    let before = store.tasks().group_commits();
    let got = futures_util::future::join_all(batch.iter().map(|m| store.insert_message(m))).await;
    let after = store.tasks().group_commits();
    assert_eq!(after.transactions - before.transactions, 1);
    assert_eq!(after.replayed - before.replayed, 1);
    assert_eq!(inserted(&got[0]).0.seq, 2);
    assert!(
        matches!(got[1], Err(StoreError::ForeignKey)),
        "{:?}",
        got[1]
    );
    assert_unique(
        got[2].as_ref().map(|_| ()).map_err(clone_err),
        "messages.id",
    );
    assert!(
        got[3].is_err(),
        "the search row is in the way: {:?}",
        got[3]
    );
    assert_eq!(inserted(&got[4]).0.seq, 3);
    let stored = |id| {
        let store = &store;
        async move { seqs(&store.list_messages_after(id, 0, 100, true).await.unwrap()) }
    };
    assert_eq!(stored(t1.id).await, [1, 2]);
    assert_eq!(stored(t2.id).await, [1, 2, 3]);
    assert_eq!(stored(t3.id).await, [1]);
    assert_eq!(store.fetch_ticket(t3.id).await.unwrap().unwrap(), t3);
}

/// Tickets opened in one batch get consecutive numbers and their own
/// outcomes; a message may go to a ticket opened in the same batch.
#[tokio::test]
async fn group_commit_opens_tickets_in_one_batch_with_their_own_outcomes() {
    let (_dir, store) = temp_store().await;
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let cat = category(&format!("Billing {}", Uuid::new_v4()));
    store.insert_category(&cat).await.unwrap();
    let (stored, stored_first) = store
        .insert_ticket_with_first_message(
            &ticket(u.id),
            &message(TicketId(Uuid::nil()), Some(u.id), Some("open-stored")),
        )
        .await
        .unwrap();

    let with = |f: &dyn Fn(&mut Ticket)| {
        let mut t = ticket(u.id);
        f(&mut t);
        t
    };
    let first = |key: Option<&str>| message(TicketId(Uuid::nil()), Some(u.id), key);
    let a = with(&|t| {
        t.category_id = Some(cat.id);
        t.subject = "zzopenedsubject".to_owned();
    });
    let opens = [
        /* 0 */ (a.clone(), first(Some("open-a"))),
        /* 1 */
        (
            with(&|t| t.customer_id = UserId(Uuid::now_v7())),
            first(None),
        ),
        /* 2 */
        (
            with(&|t| t.category_id = Some(CategoryId(Uuid::now_v7()))),
            first(None),
        ),
        /* 3 */ (ticket(u.id), first(Some("open-stored"))),
        /* 4 */ (ticket(u.id), first(Some("open-a"))),
        /* 5 */ (with(&|t| t.id = stored.id), first(None)),
        /* 6 */
        (
            ticket(u.id),
            NewMessage {
                id: stored_first.id,
                ..first(None)
            },
        ),
        /* 7 */ (ticket(u.id), first(None)),
        /* 8 */
        (
            ticket(u.id),
            message(TicketId(Uuid::nil()), Some(UserId(Uuid::now_v7())), None),
        ),
    ];
    let messages = [
        /* 0 */ message(a.id, Some(u.id), None),
        /* 1 */ keyed(message(stored.id, Some(u.id), None), "open-stored"),
        /* 2 */ message(stored.id, Some(UserId(Uuid::now_v7())), None),
        /* 3 */ keyed(message(a.id, Some(u.id), None), "open-a"),
    ];
    let before = store.tasks().group_commits();
    let (opened, sent) = tokio::join!(
        futures_util::future::join_all(
            opens
                .iter()
                .map(|(t, m)| store.insert_ticket_with_first_message(t, m))
        ),
        futures_util::future::join_all(messages.iter().map(|m| store.insert_message(m))),
    );
    let after = store.tasks().group_commits();
    assert_eq!(
        after.transactions - before.transactions,
        1,
        "one transaction"
    );
    assert_eq!(after.replayed, before.replayed, "planned, not replayed");

    let (ta, ma) = opened[0].as_ref().unwrap();
    assert_eq!((ta.number, ta.last_seq, ma.seq), (stored.number + 1, 1, 1));
    assert_eq!(
        *ma,
        neurochat_core::domain::Message {
            ticket_id: a.id,
            ..opens[0].1.with_seq(1)
        }
    );
    for i in [1, 2, 8] {
        assert!(
            matches!(opened[i], Err(StoreError::ForeignKey)),
            "{i}: {:?}",
            opened[i]
        );
    }
    for i in [3, 4] {
        assert_unique(
            opened[i].as_ref().map(|_| ()).map_err(clone_err),
            "tickets.first_message",
        );
    }
    assert_unique(
        opened[5].as_ref().map(|_| ()).map_err(clone_err),
        "tickets.id",
    );
    assert_unique(
        opened[6].as_ref().map(|_| ()).map_err(clone_err),
        "messages.id",
    );
    let (t7, _) = opened[7].as_ref().unwrap();
    assert_eq!(t7.number, stored.number + 2, "numbers stay consecutive");

    let (m0, ta_after) = inserted(&sent[0]);
    assert_eq!(
        (m0.seq, ta_after.last_seq, ta_after.number),
        (2, 2, ta.number)
    );
    assert_eq!(
        sent[1].as_ref().unwrap(),
        &InsertMessage::Duplicate(stored_first.clone())
    );
    assert!(
        matches!(sent[2], Err(StoreError::ForeignKey)),
        "{:?}",
        sent[2]
    );
    assert_eq!(
        sent[3].as_ref().unwrap(),
        &InsertMessage::Duplicate(ma.clone()),
        "the first message of a ticket opened in the batch"
    );

    assert_eq!(store.fetch_ticket(a.id).await.unwrap().unwrap(), *ta_after);
    assert_eq!(store.fetch_ticket(t7.id).await.unwrap().unwrap(), *t7);
    for (t, _) in &opens[1..7] {
        if t.id != stored.id {
            assert_eq!(store.fetch_ticket(t.id).await.unwrap(), None);
        }
    }
    assert_eq!(matching(&store, u.id, "zzopenedsubject").await, vec![a.id]);
    // The counter moved by the two opened tickets only.
    let next = open_ticket(&store, u.id).await;
    assert_eq!(next.number, stored.number + 3);
}

fn clone_err(e: &StoreError) -> StoreError {
    match e {
        StoreError::UniqueViolation { constraint } => StoreError::UniqueViolation { constraint },
        StoreError::ForeignKey => StoreError::ForeignKey,
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict => StoreError::Conflict,
        other => panic!("unexpected {other:?}"),
    }
}

/// An answer comes only after the commit: another store on the same file
/// (its own pool and connections) sees every acknowledged message at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_messages_are_visible_to_another_store_on_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("neurochat.db");
    let writer = Arc::new(SqliteStore::open(&path).await.unwrap());
    let reader = Arc::new(SqliteStore::open(&path).await.unwrap());
    let u = fresh_user();
    writer.insert_user(&u).await.unwrap();
    let t = open_ticket(&writer, u.id).await;
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (writer, reader) = (writer.clone(), reader.clone());
            tokio::spawn(async move {
                let sent = message(t.id, Some(u.id), None);
                let seq = writer.insert_message(&sent).await.unwrap().message().seq;
                let seen = reader
                    .list_messages_after(t.id, seq - 1, 1, true)
                    .await
                    .unwrap();
                assert_eq!(seen, vec![sent.with_seq(seq)], "acknowledged, so committed");
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

const KILL_TEST_DB: &str = "NEUROCHAT_SQLITE_KILL_TEST_DB";

/// Not a test on its own: the child process of
/// `acknowledged_messages_survive_kill_9` (does nothing unless started by
/// it). Writes messages from 16 concurrent callers forever, printing each
/// acknowledged message id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_child_process() {
    let Ok(path) = std::env::var(KILL_TEST_DB) else {
        return;
    };
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let (u, t): (String, String) = sqlx::query_as("SELECT customer_id, id FROM tickets LIMIT 1")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let (u, t) = (UserId(u.parse().unwrap()), TicketId(t.parse().unwrap()));
    for _ in 0..16 {
        let store = store.clone();
        tokio::spawn(async move {
            loop {
                let m = message(t, Some(u), None);
                store.insert_message(&m).await.unwrap();
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                writeln!(out, "ACK {}", m.id.0).unwrap();
                out.flush().unwrap();
            }
        });
    }
    // Until the parent kills the process.
    std::future::pending::<()>().await;
}

/// Process-crash safety (WAL, `synchronous = NORMAL`): a child process
/// writing messages is killed with SIGKILL; every message it had been
/// answered for is in the database afterwards.
#[test]
fn acknowledged_messages_survive_kill_9() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("neurochat.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap();
        let u = fresh_user();
        store.insert_user(&u).await.unwrap();
        open_ticket(&store, u.id).await;
    });
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kill_9_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(KILL_TEST_DB, &path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        if let Some(id) = line.unwrap().strip_prefix("ACK ") {
            acked.push(id.to_owned());
            if acked.len() == 2_000 {
                break;
            }
        }
    }
    // SIGKILL on Unix: no destructor, no checkpoint, no orderly close.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(acked.len(), 2_000, "the child stopped writing early");
    rt.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap();
        let stored: HashSet<String> = sqlx::query_scalar("SELECT id FROM messages")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
        let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
        assert!(lost.is_empty(), "{} acknowledged messages lost", lost.len());
    });
}

/// Commits never checkpoint (`wal_autocheckpoint = 0`); the checkpoint task
/// moves the pages into the database file and keeps the WAL bounded, though
/// the writes below put far more than the bound through it (one transaction
/// per message: about 20 pages each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_task_keeps_the_wal_bounded() {
    use neurochat_storage_sqlx::sqlite::{RESTART_WAL_BYTES, TRUNCATE_WAL_BYTES};
    let (dir, store) = temp_store().await;
    let db = dir.path().join("neurochat.db");
    let wal = dir.path().join("neurochat.db-wal");
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let autocheckpoint: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(autocheckpoint, 0);
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let t = open_ticket(&store, u.id).await;
    let db_before = size(&db);
    let mut largest = 0;
    for _ in 0..1_500 {
        store
            .insert_message(&message(t.id, Some(u.id), None))
            .await
            .unwrap();
        largest = largest.max(size(&wal));
    }
    assert!(
        largest <= TRUNCATE_WAL_BYTES + (1 << 20),
        "WAL reached {largest} bytes"
    );
    // The interval pass copies the rest; the next commit starts the WAL over
    // (from the top of the file, which is cut back if it grew past twice
    // the restart point).
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    store
        .insert_message(&message(t.id, Some(u.id), None))
        .await
        .unwrap();
    let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(
        (1..100).contains(&frames),
        "the WAL holds the last commit only: {frames} frames"
    );
    assert!(
        size(&wal) <= 2 * RESTART_WAL_BYTES,
        "WAL {} bytes",
        size(&wal)
    );
    assert!(
        size(&db) > db_before + (256 << 10),
        "checkpoints moved the pages into the database file ({db_before} -> {})",
        size(&db)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_store_stops_its_background_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("neurochat.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let tasks = store.tasks();
    assert_eq!(tasks.running(), 2, "writer and checkpoint task");
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let t = open_ticket(&store, u.id).await;
    let clone = store.clone();
    let sent = message(t.id, Some(u.id), None);
    clone.insert_message(&sent).await.unwrap();
    drop(store);
    assert_eq!(tasks.running(), 2, "a clone keeps the store open");
    drop(clone);
    tokio::time::timeout(std::time::Duration::from_secs(10), tasks.stopped())
        .await
        .expect("the tasks end after the last handle is dropped");
    assert_eq!(tasks.running(), 0);
    assert_eq!(tasks.group_commits().calls, 2);
    // The file opens again with everything in it.
    let store = SqliteStore::open(&path).await.unwrap();
    let stored = store.list_messages_after(t.id, 0, 10, true).await.unwrap();
    assert_eq!(stored, vec![stored[0].clone(), sent.with_seq(2)]);

    let memory = SqliteStore::open_in_memory().await.unwrap();
    let tasks = memory.tasks();
    assert_eq!(tasks.running(), 1, "no WAL, no checkpoint task");
    drop(memory);
    tokio::time::timeout(std::time::Duration::from_secs(10), tasks.stopped())
        .await
        .unwrap();
}
