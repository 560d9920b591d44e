//! The in-memory reference [`Store`]: every table is a map behind one mutex,
//! so every method is trivially atomic. It defines the semantics the SQL
//! adapters must match (checked by the conformance suite).

mod audit;
mod categories;
mod messages;
mod outbox;
mod sessions;
mod tickets;
mod users;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{
    AuditEntry, AuditId, Category, CategoryId, Message, MessageId, MessageKind, OutboxId,
    OutboxMessage, Receipt, RefreshToken, ResetToken, Session, SessionId, Ticket, TicketId,
    TicketStatus, TokenId, User, UserId,
};
use crate::ports::store::{Store, StoreError, StoreResult};

/// Revoke reason written when a rotated refresh token is presented again.
const REASON_REUSED: &str = "refresh_token_reused";
/// Revoke reason written when a user is disabled.
const REASON_DISABLED: &str = "disabled";
/// Revoke reason written when a password reset token is used.
const REASON_PASSWORD_RESET: &str = "password_reset";
/// Revoke reason written when a user's personal data is erased.
const REASON_ERASED: &str = "erased";

/// Every table of the store.
#[derive(Debug, Default)]
struct State {
    users: BTreeMap<UserId, User>,
    sessions: HashMap<SessionId, Session>,
    refresh_tokens: HashMap<TokenId, RefreshToken>,
    reset_tokens: HashMap<TokenId, ResetToken>,
    audit: BTreeMap<AuditId, AuditEntry>,
    tickets: HashMap<TicketId, Ticket>,
    /// The highest ticket number ever handed out (numbers are never reused).
    last_ticket_number: i64,
    /// Messages per ticket, in `seq` order (index `i` holds `seq == i + 1`).
    messages: HashMap<TicketId, Vec<Message>>,
    message_ids: HashSet<MessageId>,
    categories: HashMap<CategoryId, Category>,
    outbox: HashMap<OutboxId, OutboxMessage>,
    /// Read receipts keyed by `(ticket, user)`: in user order within a ticket.
    receipts: BTreeMap<(TicketId, UserId), Receipt>,
}

/// The in-memory reference [`Store`]: for tests, demos and single-process
/// hosts that need no persistence. Cheap to create; all data is lost on drop.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn unique(constraint: &'static str) -> StoreError {
    StoreError::UniqueViolation { constraint }
}

impl State {
    /// The first message (seq 1) by `author` with `client_msg_id`, on any ticket.
    fn first_message_of(
        &self,
        author: Option<UserId>,
        client_msg_id: Option<&str>,
    ) -> Option<&Message> {
        self.messages
            .values()
            .filter_map(|ms| ms.first())
            .find(|m| m.author_id == author && m.client_msg_id.as_deref() == client_msg_id)
    }

    /// Checks the unique keys of `user` against every other user.
    fn check_user_unique(&self, user: &User) -> StoreResult<()> {
        let others = || self.users.values().filter(|u| u.id != user.id);
        if let Some(email) = &user.email_normalized
            && others().any(|u| u.email_normalized.as_deref() == Some(email.as_str()))
        {
            return Err(unique("users.email"));
        }
        if let Some(ext) = &user.external_id
            && others().any(|u| u.external_id.as_deref() == Some(ext.as_str()))
        {
            return Err(unique("users.external_id"));
        }
        Ok(())
    }

    /// Checks the case-insensitive unique name of `category` against every other one.
    fn check_category_unique(&self, category: &Category) -> StoreResult<()> {
        let name = category.name.to_lowercase();
        if self
            .categories
            .values()
            .any(|c| c.id != category.id && c.name.to_lowercase() == name)
        {
            return Err(unique("categories.name"));
        }
        Ok(())
    }

    /// `ForeignKey` unless the user exists.
    fn require_user(&self, id: UserId) -> StoreResult<()> {
        if self.users.contains_key(&id) {
            Ok(())
        } else {
            Err(StoreError::ForeignKey)
        }
    }

    /// Checks the references of a ticket row (customer, assignee, category).
    fn check_ticket_refs(&self, ticket: &Ticket) -> StoreResult<()> {
        self.require_user(ticket.customer_id)?;
        if let Some(a) = ticket.assignee_id {
            self.require_user(a)?;
        }
        if let Some(c) = ticket.category_id
            && !self.categories.contains_key(&c)
        {
            return Err(StoreError::ForeignKey);
        }
        Ok(())
    }

    /// Whether the subject or one message of `ticket` (internal notes only
    /// with `include_internal`) contains every word of `query` as a word prefix.
    fn ticket_matches_text(
        &self,
        ticket: &Ticket,
        query: &[String],
        include_internal: bool,
    ) -> bool {
        text_matches(&ticket.subject, query)
            || self.messages.get(&ticket.id).is_some_and(|ms| {
                ms.iter()
                    .any(|m| visible(m, include_internal) && text_matches(&m.body, query))
            })
    }

    /// Revokes every unrevoked session of `user_id` except `keep`; returns how many.
    fn revoke_sessions_of(
        &mut self,
        user_id: UserId,
        keep: Option<SessionId>,
        now: OffsetDateTime,
        reason: &str,
    ) -> u64 {
        let mut n = 0;
        for s in self.sessions.values_mut() {
            if s.user_id == user_id && s.revoked_at.is_none() && Some(s.id) != keep {
                s.revoked_at = Some(now);
                s.revoke_reason = Some(reason.to_owned());
                n += 1;
            }
        }
        n
    }
}

/// Keeps at most `limit` items.
fn take<T>(items: impl Iterator<Item = T>, limit: u32) -> Vec<T> {
    items
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect()
}

/// Applies the effects of storing `message` (already given its `seq`) to its
/// ticket, as [`MessageStore::insert_message`] documents them.
///
/// [`MessageStore::insert_message`]: crate::ports::store::MessageStore::insert_message
fn apply_message_effects(ticket: &mut Ticket, message: &Message) {
    ticket.last_seq = message.seq;
    ticket.updated_at = message.created_at;
    match message.kind {
        MessageKind::Customer => {
            ticket.awaiting_since = ticket.awaiting_since.or(Some(message.created_at));
            if ticket.status == TicketStatus::Resolved {
                ticket.status = if ticket.assignee_id.is_some() {
                    TicketStatus::InProgress
                } else {
                    TicketStatus::New
                };
                ticket.version += 1;
            }
        }
        MessageKind::Agent => {
            ticket.awaiting_since = None;
            ticket.first_response_at = ticket.first_response_at.or(Some(message.created_at));
            ticket.last_agent_seq = message.seq;
            ticket.last_agent_message_at = Some(message.created_at);
        }
        MessageKind::System | MessageKind::InternalNote => {}
    }
}

/// The words of `text` for search: maximal runs of alphanumeric characters,
/// lower-cased.
fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether every query word is a prefix of one of the words of `text`.
fn text_matches(text: &str, query: &[String]) -> bool {
    let words = search_words(text);
    query
        .iter()
        .all(|q| words.iter().any(|w| w.starts_with(q.as_str())))
}

/// Whether a listing shows `m`: internal notes only to staff listings.
fn visible(m: &Message, include_internal: bool) -> bool {
    include_internal || m.kind != MessageKind::InternalNote
}

/// Whether `t` lies in the half-open range `[from, to)` (either end optional).
fn in_range(t: OffsetDateTime, from: Option<OffsetDateTime>, to: Option<OffsetDateTime>) -> bool {
    from.is_none_or(|f| t >= f) && to.is_none_or(|to| t < to)
}

#[async_trait]
impl Store for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}
