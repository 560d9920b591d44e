//! Builders for rows with fresh random ids and keys, so scenarios never collide
//! with each other, with other runs or with other backends sharing one database.
//!
//! Conventions the scenarios rely on when the database is shared:
//! - every token and session built here expires in the future (relative to
//!   the real clock); "expired" is simulated by passing a later `now`, so
//!   [`delete_expired_tokens`](crate::ports::SessionStore::delete_expired_tokens)
//!   with the real time never deletes another scenario's rows;
//! - outbox mails built here are due only far in the future ([`FAR_FUTURE`]),
//!   while the claim scenarios lease with a random `now` in the past, so they
//!   never lease another scenario's mail;
//! - only `users::count_users_with_role_counts_enabled` and
//!   `users::agent_loads_count_open_assigned` create enabled admins, and they
//!   disable them before returning;
//! - only the queue scenarios of [`ticket_queues`](super::ticket_queues) (escalation,
//!   closing, notifications, metrics window) create tickets in the past
//!   ([`random_past`]), and they close them before returning, so other runs'
//!   queue queries never see them again.

use rand::{Rng, RngCore};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::domain::{
    AuditAction, AuditEntry, AuditId, Availability, Category, CategoryId, MessageId, MessageKind,
    NewMessage, OutboxId, OutboxMessage, Priority, RefreshToken, ResetToken, Role, Session,
    SessionId, SessionKind, Ticket, TicketId, TicketStatus, TokenId, User, UserId,
};
use crate::ports::{Store, StoreError, truncate_millis};

/// How far in the future fixture mails become due.
pub const FAR_FUTURE: Duration = Duration::days(365 * 100);

/// The current time at the precision stores keep (milliseconds).
pub fn now() -> OffsetDateTime {
    truncate_millis(OffsetDateTime::now_utc())
}

/// A random instant between 1990 and 2020, at millisecond precision: a private
/// time window for scenarios that must filter by time (outbox claims).
pub fn random_past() -> OffsetDateTime {
    let secs = rand::thread_rng().gen_range(631_152_000_i64..1_577_836_800);
    let ms = rand::thread_rng().gen_range(0_i64..1000);
    OffsetDateTime::from_unix_timestamp(secs).expect("valid timestamp") + Duration::milliseconds(ms)
}

/// A unique lower-case alphanumeric tag (32 hex digits) to put into names and
/// emails so a search or list can find exactly one scenario's rows.
pub fn tag() -> String {
    Uuid::new_v4().simple().to_string()
}

/// 32 random bytes, standing in for a SHA-256 secret hash.
pub fn secret_hash() -> Vec<u8> {
    let mut b = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    b
}

/// A fresh user id (not stored).
pub fn user_id() -> UserId {
    UserId(Uuid::now_v7())
}

/// A password customer with a random email `u-<uuid>@Example.com` (normalised
/// lower-case), no external id, version 1.
pub fn user(now: OffsetDateTime) -> User {
    let id = Uuid::now_v7();
    let email = format!("u-{}@Example.com", id.simple());
    User {
        id: UserId(id),
        email_normalized: Some(email.to_lowercase()),
        email: Some(email),
        display_name: format!("User {}", id.simple()),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".to_owned()),
        role: Role::Customer,
        disabled: false,
        external_id: None,
        verified: true,
        contact_email: None,
        availability: Availability::Offline,
        capacity: 0,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A user with every optional field set (an agent with an external id).
pub fn user_full(now: OffsetDateTime) -> User {
    let mut u = user(now);
    u.role = Role::Agent;
    u.external_id = Some(format!("ext-{}", tag()));
    u.contact_email = Some(format!("contact-{}@example.org", tag()));
    u.availability = Availability::Online;
    u.capacity = 7;
    u.created_at = now - Duration::days(3);
    u.updated_at = now - Duration::milliseconds(1234);
    u.version = 4;
    u
}

/// An anonymous widget visitor: every optional field unset.
pub fn visitor(now: OffsetDateTime) -> User {
    let id = Uuid::now_v7();
    User {
        id: UserId(id),
        email: None,
        email_normalized: None,
        display_name: format!("Visitor {}", id.simple()),
        password_hash: None,
        role: Role::Customer,
        disabled: false,
        external_id: None,
        verified: false,
        contact_email: None,
        availability: Availability::Away,
        capacity: 0,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// Inserts a fresh [`user`] and returns it.
pub async fn insert_user(store: &dyn Store, now: OffsetDateTime) -> User {
    let u = user(now);
    store.insert_user(&u).await.expect("insert fixture user");
    u
}

/// Inserts a fresh agent and returns it.
pub async fn insert_agent(store: &dyn Store, now: OffsetDateTime) -> User {
    let mut u = user(now);
    u.role = Role::Agent;
    store.insert_user(&u).await.expect("insert fixture agent");
    u
}

/// A password session of `user_id` started at `now`, expiring in 30 days.
pub fn session(user_id: UserId, now: OffsetDateTime) -> Session {
    Session {
        id: SessionId(Uuid::now_v7()),
        user_id,
        kind: SessionKind::Password,
        secret_hash: None,
        created_at: now,
        expires_at: now + Duration::days(30),
        revoked_at: None,
        revoke_reason: None,
    }
}

/// A visitor session (with its secret hash) of `user_id`.
pub fn visitor_session(user_id: UserId, now: OffsetDateTime) -> Session {
    Session {
        kind: SessionKind::Visitor,
        secret_hash: Some(secret_hash()),
        ..session(user_id, now)
    }
}

/// A current refresh token of `session`, issued at `now`, expiring in 7 days.
pub fn refresh_token(session: &Session, now: OffsetDateTime) -> RefreshToken {
    RefreshToken {
        id: TokenId(Uuid::now_v7()),
        session_id: session.id,
        user_id: session.user_id,
        secret_hash: secret_hash(),
        issued_at: now,
        expires_at: now + Duration::days(7),
        rotated_at: None,
    }
}

/// Inserts a password session with its first refresh token for `user_id`.
pub async fn insert_session(
    store: &dyn Store,
    user_id: UserId,
    now: OffsetDateTime,
) -> (Session, RefreshToken) {
    let s = session(user_id, now);
    let t = refresh_token(&s, now);
    store
        .insert_session(&s, Some(&t))
        .await
        .expect("insert fixture session");
    (s, t)
}

/// An unused reset token of `user_id`, created at `now`, expiring in one hour.
pub fn reset_token(user_id: UserId, now: OffsetDateTime) -> ResetToken {
    ResetToken {
        id: TokenId(Uuid::now_v7()),
        user_id,
        secret_hash: secret_hash(),
        created_at: now,
        expires_at: now + Duration::hours(1),
        used_at: None,
    }
}

/// An unsent mail created at `now`, due only at `now + FAR_FUTURE`.
pub fn mail(now: OffsetDateTime) -> OutboxMessage {
    let t = tag();
    OutboxMessage {
        id: OutboxId(Uuid::now_v7()),
        recipient: format!("r-{t}@example.com"),
        subject: format!("Subject {t}"),
        body: format!("Body {t}\nsecond line"),
        created_at: now,
        attempts: 0,
        next_attempt_at: now + FAR_FUTURE,
        last_error: None,
        sent_at: None,
    }
}

/// A new, unassigned, normal-priority ticket of `customer_id` (number and
/// the message fields left for the store to maintain).
pub fn ticket(customer_id: UserId, now: OffsetDateTime) -> Ticket {
    Ticket {
        id: TicketId(Uuid::now_v7()),
        number: 0,
        subject: format!("Ticket {}", tag()),
        customer_id,
        category_id: None,
        priority: Priority::Normal,
        status: TicketStatus::New,
        assignee_id: None,
        created_at: now,
        updated_at: now,
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

/// A customer message on `ticket_id` by `author_id` without an idempotency key.
pub fn message(ticket_id: TicketId, author_id: UserId, now: OffsetDateTime) -> NewMessage {
    NewMessage {
        id: MessageId(Uuid::now_v7()),
        ticket_id,
        author_id: Some(author_id),
        kind: MessageKind::Customer,
        body: format!("Hello {}", tag()),
        client_msg_id: None,
        created_at: now,
    }
}

/// A message of `kind` on `ticket_id` by `author_id` without an idempotency key.
pub fn message_of(
    kind: MessageKind,
    ticket_id: TicketId,
    author_id: Option<UserId>,
    now: OffsetDateTime,
) -> NewMessage {
    NewMessage {
        id: MessageId(Uuid::now_v7()),
        ticket_id,
        author_id,
        kind,
        body: format!("{} {}", kind.as_str(), tag()),
        client_msg_id: None,
        created_at: now,
    }
}

/// An agent reply on `ticket_id` by `agent_id`.
pub fn agent_message(ticket_id: TicketId, agent_id: UserId, now: OffsetDateTime) -> NewMessage {
    message_of(MessageKind::Agent, ticket_id, Some(agent_id), now)
}

/// A system message (no author) on `ticket_id`: its only effects are
/// `last_seq` and `updated_at`.
pub fn system_message(ticket_id: TicketId, now: OffsetDateTime) -> NewMessage {
    message_of(MessageKind::System, ticket_id, None, now)
}

/// Inserts `ticket` as given, with a [`system_message`] at its `updated_at`
/// first, so the stored ticket keeps every field the caller set except the
/// ones the store maintains (`number`, `last_seq = 1`, no `awaiting_since`,
/// no agent reply). A `closed` ticket is inserted `new` and then closed with
/// `update_ticket` (same `updated_at`, version bumped). Returns it as stored.
pub async fn insert_ticket_as(store: &dyn Store, ticket: &Ticket) -> Ticket {
    let mut open = ticket.clone();
    if ticket.status == TicketStatus::Closed {
        open.status = TicketStatus::New;
    }
    let first = system_message(ticket.id, ticket.updated_at);
    let (stored, _) = store
        .insert_ticket_with_first_message(&open, &first)
        .await
        .expect("insert fixture ticket");
    if ticket.status != TicketStatus::Closed {
        return stored;
    }
    modify_ticket(store, stored.id, |t| t.status = TicketStatus::Closed).await
}

/// The stored ticket `id` (panics if missing).
pub async fn fetch_ticket(store: &dyn Store, id: TicketId) -> Ticket {
    store
        .fetch_ticket(id)
        .await
        .expect("fetch ticket")
        .expect("ticket exists")
}

/// Reads ticket `id`, applies `change`, and stores it with `update_ticket`
/// (version bumped, no mail). Returns the ticket as stored.
pub async fn modify_ticket(
    store: &dyn Store,
    id: TicketId,
    change: impl FnOnce(&mut Ticket) + Send,
) -> Ticket {
    let current = fetch_ticket(store, id).await;
    let mut next = current.clone();
    change(&mut next);
    next.version = current.version + 1;
    store
        .update_ticket(&next, current.version, None)
        .await
        .expect("update fixture ticket");
    fetch_ticket(store, id).await
}

/// Inserts a fresh [`ticket`] of `customer_id` with a first [`message`] by the customer.
pub async fn insert_ticket(store: &dyn Store, customer_id: UserId, now: OffsetDateTime) -> Ticket {
    let t = ticket(customer_id, now);
    let m = message(t.id, customer_id, now);
    store
        .insert_ticket_with_first_message(&t, &m)
        .await
        .expect("insert fixture ticket")
        .0
}

/// An unarchived category with the given name.
pub fn category(name: &str, now: OffsetDateTime) -> Category {
    Category {
        id: CategoryId(Uuid::now_v7()),
        name: name.to_owned(),
        archived: false,
        created_at: now,
    }
}

/// An audit entry with only the required fields set.
pub fn audit(actor_id: Option<UserId>, action: AuditAction, at: OffsetDateTime) -> AuditEntry {
    AuditEntry {
        id: AuditId(Uuid::now_v7()),
        at,
        actor_id,
        action,
        target_type: None,
        target_id: None,
        source_ip: None,
        detail: None,
    }
}

/// Panics unless `res` is a unique violation on `constraint`.
#[track_caller]
pub fn assert_unique<T: std::fmt::Debug>(res: Result<T, StoreError>, constraint: &str) {
    match res {
        Err(StoreError::UniqueViolation { constraint: c }) if c == constraint => {}
        other => panic!("expected UniqueViolation on {constraint}, got {other:?}"),
    }
}

/// Panics unless `res` is [`StoreError::NotFound`].
#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(res: Result<T, StoreError>) {
    match res {
        Err(StoreError::NotFound) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// Panics unless `res` is [`StoreError::Conflict`].
#[track_caller]
pub fn assert_conflict<T: std::fmt::Debug>(res: Result<T, StoreError>) {
    match res {
        Err(StoreError::Conflict) => {}
        other => panic!("expected Conflict, got {other:?}"),
    }
}

/// Panics unless `res` is [`StoreError::ForeignKey`].
#[track_caller]
pub fn assert_foreign_key<T: std::fmt::Debug>(res: Result<T, StoreError>) {
    match res {
        Err(StoreError::ForeignKey) => {}
        other => panic!("expected ForeignKey, got {other:?}"),
    }
}
