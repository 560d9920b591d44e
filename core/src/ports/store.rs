//! Storage ports. Each adapter (in-memory, SQLite, PostgreSQL, SQL Server)
//! implements every trait and proves it with the conformance suite.
//!
//! Conventions: `insert_` (fails with [`StoreError::UniqueViolation`] on a
//! duplicate key), `fetch_` (→ `Option`), `list_` (one keyset page), `update_`
//! (compare-and-set on `version` where the row has one: [`StoreError::Conflict`]
//! when it moved, [`StoreError::NotFound`] when it is gone). Work that must
//! change several rows together is one method, atomic in the adapter.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{
    AgentLoad, AuditAction, AuditEntry, AuditFilter, Category, CategoryId, InsertMessage, Message,
    NewMessage, OutboxId, OutboxMessage, Receipt, RefreshToken, ResetToken, RotateOutcome, Session,
    SessionId, Ticket, TicketFilter, TicketId, TokenId, User, UserFilter, UserId,
};

/// The storage error vocabulary every adapter maps its backend errors into.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row to update or act on does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint was violated; `constraint` names which
    /// (`users.email`, `users.external_id`, `categories.name`, ...).
    #[error("unique violation on {constraint}")]
    UniqueViolation {
        /// Stable constraint name (see the adapter's migrations).
        constraint: &'static str,
    },
    /// A referenced row does not exist.
    #[error("foreign key violation")]
    ForeignKey,
    /// A compare-and-set lost: the row changed since it was read.
    #[error("concurrent update conflict")]
    Conflict,
    /// Anything else the backend reported; the source goes to logs only.
    #[error("storage backend error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps any backend error.
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

/// Result alias for store methods.
pub type StoreResult<T> = Result<T, StoreError>;

/// Users, their roles, profiles and agent settings.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user. Unique: `users.email` (on `email_normalized`), `users.external_id`.
    async fn insert_user(&self, user: &User) -> StoreResult<()>;
    /// One user by id.
    async fn fetch_user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// One user by normalised (lower-case) email.
    async fn fetch_user_by_email(&self, email_normalized: &str) -> StoreResult<Option<User>>;
    /// One user by the host site's user id.
    async fn fetch_user_by_external_id(&self, external_id: &str) -> StoreResult<Option<User>>;
    /// Replaces every field of the user if its stored version is `expected_version`;
    /// `user.version` must be the new version. Unique violations as for insert.
    async fn update_user(&self, user: &User, expected_version: i64) -> StoreResult<()>;
    /// Sets `disabled` (bumping version and `updated_at`) and, when disabling,
    /// revokes every active session of the user — atomically. Returns the stored user.
    async fn update_user_disabled(
        &self,
        id: UserId,
        disabled: bool,
        now: OffsetDateTime,
    ) -> StoreResult<User>;
    /// A page of users ordered by id ascending.
    async fn list_users(&self, filter: &UserFilter) -> StoreResult<Vec<User>>;
    /// Number of enabled users with this role (e.g. to keep at least one admin).
    async fn count_users_with_role(&self, role: crate::domain::Role) -> StoreResult<u64>;
    /// Every enabled agent and admin with the number of tickets assigned to
    /// them in `new` or `in_progress`, ordered by user id.
    async fn list_agent_loads(&self) -> StoreResult<Vec<AgentLoad>>;
    /// Erases a customer's personal data atomically: the user keeps its id but
    /// gets display name `placeholder`, no email, contact email, external id or
    /// password, is disabled (version bumped, `updated_at = now`) and all its
    /// sessions are revoked (reason `erased`); the bodies of every message it
    /// authored and the subjects of every ticket it opened become `placeholder`
    /// (and leave any search index). Audit entries are kept. `NotFound` if missing.
    async fn update_user_erased(
        &self,
        id: UserId,
        placeholder: &str,
        now: OffsetDateTime,
    ) -> StoreResult<()>;
}

/// Sessions and their secrets: refresh tokens, visitor tokens, reset tokens.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a session and, for password sessions, its first refresh token — atomically.
    async fn insert_session(
        &self,
        session: &Session,
        first_refresh: Option<&RefreshToken>,
    ) -> StoreResult<()>;
    /// One session by id.
    async fn fetch_session(&self, id: SessionId) -> StoreResult<Option<Session>>;
    /// One refresh token by its public id.
    async fn fetch_refresh_token(&self, id: TokenId) -> StoreResult<Option<RefreshToken>>;
    /// Atomically exchanges `old` for `successor`: if `old` is current and its
    /// session active, marks it rotated and stores the successor
    /// ([`RotateOutcome::Rotated`]); if `old` was rotated already, revokes the
    /// whole session with reason `refresh_token_reused` ([`RotateOutcome::Reused`]).
    /// Of N concurrent rotations of one token exactly one is `Rotated`.
    /// [`StoreError::NotFound`] if `old` does not exist.
    async fn rotate_refresh_token(
        &self,
        old: TokenId,
        successor: &RefreshToken,
        now: OffsetDateTime,
    ) -> StoreResult<RotateOutcome>;
    /// Revokes one session; `true` if it was not revoked before.
    async fn revoke_session(
        &self,
        id: SessionId,
        now: OffsetDateTime,
        reason: &str,
    ) -> StoreResult<bool>;
    /// Revokes every unrevoked session of a user except `keep`; returns how many.
    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        now: OffsetDateTime,
        reason: &str,
    ) -> StoreResult<u64>;
    /// Stores a reset token together with the email that carries it — atomically.
    async fn insert_reset_token(&self, token: &ResetToken, mail: &OutboxMessage)
    -> StoreResult<()>;
    /// One reset token by its public id.
    async fn fetch_reset_token(&self, id: TokenId) -> StoreResult<Option<ResetToken>>;
    /// Atomically: marks the token used (only if unused and unexpired at `now`),
    /// sets the user's password hash (bumping version), and revokes all the
    /// user's sessions with reason `password_reset`. [`StoreError::NotFound`]
    /// for an unknown token, [`StoreError::Conflict`] for a used or expired one.
    /// Returns the user's id.
    async fn update_reset_token_used(
        &self,
        id: TokenId,
        new_password_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<UserId>;
    /// Deletes refresh and reset tokens that expired before `now`; returns how many.
    async fn delete_expired_tokens(&self, now: OffsetDateTime) -> StoreResult<u64>;
}

/// The append-only audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one entry.
    async fn insert_audit(&self, entry: &AuditEntry) -> StoreResult<()>;
    /// A page of entries, newest first (by id descending).
    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
    /// How many entries with `action` each actor has in `[from, to)`; entries
    /// without an actor are left out. Ordered by actor id.
    async fn count_audit_by_actor(
        &self,
        action: AuditAction,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<(UserId, u64)>>;
}

/// Tickets.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Atomically stores a ticket with its first message: assigns the next
    /// ticket number (ignoring `ticket.number`), gives the message `seq` 1 and
    /// applies the message's effects as [`MessageStore::insert_message`] does.
    /// Returns the stored ticket and message. No ticket ever exists without
    /// its first message. Opening is idempotent per author: if the author
    /// already opened a ticket whose first message has the same
    /// `client_msg_id`, nothing is stored and the error is
    /// [`StoreError::UniqueViolation`] with constraint `tickets.first_message`.
    async fn insert_ticket_with_first_message(
        &self,
        ticket: &Ticket,
        first: &NewMessage,
    ) -> StoreResult<(Ticket, Message)>;
    /// The ticket `author` opened with a first message carrying
    /// `client_msg_id`, with that message (how a resent "open ticket" finds
    /// the original).
    async fn fetch_ticket_by_first_message(
        &self,
        author: UserId,
        client_msg_id: &str,
    ) -> StoreResult<Option<(Ticket, Message)>>;
    /// One ticket by id.
    async fn fetch_ticket(&self, id: TicketId) -> StoreResult<Option<Ticket>>;
    /// Compare-and-set update of the mutable fields (status, priority,
    /// category, assignee, `updated_at`, `first_response_at`, `resolved_at`,
    /// `closed_at`, `customer_notified_seq`, `escalated_new_at`,
    /// `escalated_awaiting_since`) if the stored version is `expected_version`;
    /// `ticket.version` must be the new version. Never changes `number`,
    /// `subject`, `customer_id`, `created_at` or the store-maintained message
    /// fields (`last_seq`, `awaiting_since`, `last_agent_seq`,
    /// `last_agent_message_at`). With `mail`, enqueues it in the same transaction.
    async fn update_ticket(
        &self,
        ticket: &Ticket,
        expected_version: i64,
        mail: Option<&OutboxMessage>,
    ) -> StoreResult<()>;
    /// One page of tickets matching `filter`, in `filter.sort` order, after
    /// `filter.after`.
    async fn list_tickets(&self, filter: &TicketFilter) -> StoreResult<Vec<Ticket>>;
    /// Tickets due an escalation check, oldest first (by created_at, id):
    /// status `new` created at or before `new_before` with no `escalated_new_at`;
    /// or status `new`/`in_progress` with `awaiting_since` at or before
    /// `awaiting_before` and `escalated_awaiting_since` different from it.
    async fn list_escalation_candidates(
        &self,
        new_before: OffsetDateTime,
        awaiting_before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>>;
    /// `resolved` tickets whose `resolved_at` is at or before `resolved_before`,
    /// oldest resolution first.
    async fn list_tickets_to_close(
        &self,
        resolved_before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>>;
    /// Tickets (not closed) whose customer should hear of agent replies by
    /// email: `last_agent_message_at` at or before `before`, and
    /// `last_agent_seq` greater than both `customer_notified_seq` and the
    /// customer's own `read_seq` receipt (0 if none). Oldest reply first.
    async fn list_notifications_due(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>>;
    /// Tickets created in `[from, to)` or resolved in `[from, to)` (metrics).
    async fn list_tickets_in_window(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<Ticket>>;
}

/// Chat messages and read receipts.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Idempotent, atomic insert. If the author already sent `client_msg_id`
    /// on this ticket, returns [`InsertMessage::Duplicate`] with the original
    /// and changes nothing. Otherwise assigns `seq = last_seq + 1` (gapless and
    /// unique per ticket under concurrent writers) and applies these effects to
    /// the ticket in the same transaction:
    /// - always: `last_seq = seq`, `updated_at = created_at`;
    /// - customer message: `awaiting_since = COALESCE(awaiting_since, created_at)`;
    ///   on a `resolved` ticket also `status = in_progress` if assigned, else
    ///   `new`, and `version + 1` (the only effect that bumps the version);
    /// - agent message: `awaiting_since = NULL`, `first_response_at =
    ///   COALESCE(first_response_at, created_at)`, `last_agent_seq = seq`,
    ///   `last_agent_message_at = created_at`;
    /// - system messages and internal notes: nothing more.
    ///
    /// Returns [`InsertMessage::Inserted`] with the ticket after the effects
    /// and its status before them.
    /// [`StoreError::NotFound`] for an unknown ticket, [`StoreError::Conflict`]
    /// (nothing stored) when the ticket is `closed`.
    async fn insert_message(&self, message: &NewMessage) -> StoreResult<InsertMessage>;
    /// [`insert_message`](Self::insert_message) for each message, in order:
    /// one outcome per message, each exactly what that call alone would
    /// return after the ones before it. A store with group commit writes them
    /// in one go; the default runs the calls one after another.
    async fn insert_messages(&self, messages: &[NewMessage]) -> Vec<StoreResult<InsertMessage>> {
        let mut outcomes = Vec::with_capacity(messages.len());
        for m in messages {
            outcomes.push(self.insert_message(m).await);
        }
        outcomes
    }
    /// Messages of a ticket with `after_seq < seq` (ascending), at most
    /// `limit`; internal notes only if `include_internal`.
    async fn list_messages_after(
        &self,
        ticket_id: TicketId,
        after_seq: i64,
        limit: u32,
        include_internal: bool,
    ) -> StoreResult<Vec<Message>>;
    /// Messages of a ticket with `seq < before_seq`, the newest `limit` of
    /// them, returned in ascending order; internal notes only if `include_internal`.
    async fn list_messages_before(
        &self,
        ticket_id: TicketId,
        before_seq: i64,
        limit: u32,
        include_internal: bool,
    ) -> StoreResult<Vec<Message>>;
    /// Moves a participant's receipt forward, never back: `delivered_seq =
    /// max(old, delivered_seq, read_seq)`, `read_seq = max(old, read_seq)`;
    /// creates it (from 0) if missing; `updated_at = now` when something
    /// moved. Returns the receipt as stored. `ForeignKey` for an unknown
    /// ticket or user.
    async fn update_receipt(
        &self,
        ticket_id: TicketId,
        user_id: UserId,
        delivered_seq: i64,
        read_seq: i64,
        now: OffsetDateTime,
    ) -> StoreResult<Receipt>;
    /// Every participant's receipt on a ticket, ordered by user id.
    async fn list_receipts(&self, ticket_id: TicketId) -> StoreResult<Vec<Receipt>>;
}

/// Ticket categories.
#[async_trait]
pub trait CategoryStore: Send + Sync {
    /// Stores a category. Unique: `categories.name` (case-insensitive).
    async fn insert_category(&self, category: &Category) -> StoreResult<()>;
    /// One category by id.
    async fn fetch_category(&self, id: CategoryId) -> StoreResult<Option<Category>>;
    /// Renames or (un)archives; unique as for insert; `NotFound` if missing.
    async fn update_category(&self, category: &Category) -> StoreResult<()>;
    /// All categories ordered by name (case-insensitive), archived included.
    async fn list_categories(&self) -> StoreResult<Vec<Category>>;
}

/// The email outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Enqueues a mail.
    async fn insert_outbox(&self, mail: &OutboxMessage) -> StoreResult<()>;
    /// Atomically leases up to `limit` unsent mails due at `now` (oldest first):
    /// bumps `attempts` and sets `next_attempt_at = lease_until`, so concurrent
    /// workers never take the same mail. Returns the leased mails as stored.
    async fn claim_outbox(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>>;
    /// Marks a mail delivered.
    async fn update_outbox_sent(&self, id: OutboxId, now: OffsetDateTime) -> StoreResult<()>;
    /// Records a failed attempt and when to retry.
    async fn update_outbox_failed(
        &self,
        id: OutboxId,
        error: &str,
        retry_at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// One mail by id.
    async fn fetch_outbox(&self, id: OutboxId) -> StoreResult<Option<OutboxMessage>>;
}

/// Everything NeuroChat stores, as one object: `Arc<dyn Store>`.
#[async_trait]
pub trait Store:
    UserStore + SessionStore + AuditStore + TicketStore + MessageStore + CategoryStore + OutboxStore
{
    /// A cheap liveness check of the backend (for readiness probes).
    async fn ping(&self) -> StoreResult<()>;
}
