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
