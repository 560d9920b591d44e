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
        last_seq: 0,
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
    assert!(matches!(first, InsertMessage::Inserted(_)));
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
    let all = store.list_messages_after(t.id, 0, 1000).await.unwrap();
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
