//! Helpers shared by the SQLite integration tests: fresh domain values and
//! temporary stores.

#![allow(dead_code)]
#![allow(clippy::unwrap_used)]

use neurochat_core::domain::{
    AuditAction, AuditEntry, AuditId, Availability, Category, CategoryId, MessageId, MessageKind,
    NewMessage, OutboxId, OutboxMessage, Priority, RefreshToken, Role, Session, SessionId,
    SessionKind, Ticket, TicketId, TicketStatus, TokenId, User, UserId,
};
use neurochat_core::ports::{StoreError, TicketStore, truncate_millis};
use neurochat_storage_sqlx::SqliteStore;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub fn now() -> OffsetDateTime {
    truncate_millis(OffsetDateTime::now_utc())
}

pub fn user(email: &str, display_name: &str) -> User {
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

pub fn fresh_user() -> User {
    let id = Uuid::new_v4().simple().to_string();
    user(&format!("u-{id}@example.com"), &format!("User {id}"))
}

pub fn session(user_id: UserId) -> Session {
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

pub fn refresh(s: &Session) -> RefreshToken {
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

pub fn ticket(customer_id: UserId) -> Ticket {
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

pub fn message(
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

pub fn mail(created_at: OffsetDateTime, due: OffsetDateTime) -> OutboxMessage {
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

pub fn category(name: &str) -> Category {
    Category {
        id: CategoryId(Uuid::now_v7()),
        name: name.to_owned(),
        archived: false,
        created_at: now(),
    }
}

pub fn audit(actor_id: Option<UserId>) -> AuditEntry {
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

pub async fn temp_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("neurochat.db"))
        .await
        .unwrap();
    (dir, store)
}

pub fn assert_unique<T: std::fmt::Debug>(res: Result<T, StoreError>, constraint: &str) {
    match res {
        Err(StoreError::UniqueViolation { constraint: c }) if c == constraint => {}
        other => panic!("expected UniqueViolation on {constraint}, got {other:?}"),
    }
}

pub fn ticket_filter() -> neurochat_core::domain::TicketFilter {
    neurochat_core::domain::TicketFilter {
        limit: 50,
        ..Default::default()
    }
}

/// A ticket of `customer` with its first message (seq 1), stored alone.
pub async fn open_ticket(store: &SqliteStore, customer: UserId) -> Ticket {
    store
        .insert_ticket_with_first_message(
            &ticket(customer),
            &message(TicketId(Uuid::nil()), Some(customer), None),
        )
        .await
        .unwrap()
        .0
}
