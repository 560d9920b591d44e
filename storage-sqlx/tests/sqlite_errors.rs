//! Constraint and error mapping, rollback of failed atomic writes, and
//! timestamp precision of the SQLite store.

#![allow(clippy::unwrap_used)]

mod support;

use neurochat_core::domain::{AuditFilter, InsertMessage, SessionId, TicketId, TokenId, UserId};
use neurochat_core::ports::{
    AuditStore, CategoryStore, MessageStore, OutboxStore, SessionStore, StoreError, TicketStore,
    UserStore,
};
use neurochat_storage_sqlx::SqliteStore;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use support::*;

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
