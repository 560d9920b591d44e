//! The in-memory reference [`Store`]: every table is a map behind one mutex,
//! so every method is trivially atomic. It defines the semantics the SQL
//! adapters must match (checked by the conformance suite).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{
    AgentLoad, AssigneeFilter, AuditAction, AuditEntry, AuditFilter, AuditId, Category, CategoryId,
    InsertMessage, Message, MessageId, MessageKind, NewMessage, OutboxId, OutboxMessage, Receipt,
    RefreshToken, ResetToken, Role, RotateOutcome, Session, SessionId, Ticket, TicketCursor,
    TicketFilter, TicketId, TicketSort, TicketStatus, TokenId, User, UserFilter, UserId,
};
use crate::ports::store::{
    AuditStore, CategoryStore, MessageStore, OutboxStore, SessionStore, Store, StoreError,
    StoreResult, TicketStore, UserStore,
};

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
impl UserStore for MemoryStore {
    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        let mut st = self.lock();
        if st.users.contains_key(&user.id) {
            return Err(unique("users.id"));
        }
        st.check_user_unique(user)?;
        st.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn fetch_user(&self, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.lock().users.get(&id).cloned())
    }

    async fn fetch_user_by_email(&self, email_normalized: &str) -> StoreResult<Option<User>> {
        Ok(self
            .lock()
            .users
            .values()
            .find(|u| u.email_normalized.as_deref() == Some(email_normalized))
            .cloned())
    }

    async fn fetch_user_by_external_id(&self, external_id: &str) -> StoreResult<Option<User>> {
        Ok(self
            .lock()
            .users
            .values()
            .find(|u| u.external_id.as_deref() == Some(external_id))
            .cloned())
    }

    async fn update_user(&self, user: &User, expected_version: i64) -> StoreResult<()> {
        let mut st = self.lock();
        match st.users.get(&user.id) {
            None => return Err(StoreError::NotFound),
            Some(stored) if stored.version != expected_version => {
                return Err(StoreError::Conflict);
            }
            Some(_) => {}
        }
        st.check_user_unique(user)?;
        st.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn update_user_disabled(
        &self,
        id: UserId,
        disabled: bool,
        now: OffsetDateTime,
    ) -> StoreResult<User> {
        let mut st = self.lock();
        let user = st.users.get_mut(&id).ok_or(StoreError::NotFound)?;
        user.disabled = disabled;
        user.version += 1;
        user.updated_at = now;
        let user = user.clone();
        if disabled {
            st.revoke_sessions_of(id, None, now, REASON_DISABLED);
        }
        Ok(user)
    }

    async fn list_users(&self, filter: &UserFilter) -> StoreResult<Vec<User>> {
        let st = self.lock();
        let search = filter.search.as_deref().map(str::to_lowercase);
        let matches = |u: &&User| {
            if let Some(s) = &search {
                let in_email = u
                    .email_normalized
                    .as_deref()
                    .is_some_and(|e| e.to_lowercase().contains(s.as_str()));
                if !in_email && !u.display_name.to_lowercase().contains(s.as_str()) {
                    return false;
                }
            }
            filter.role.is_none_or(|r| u.role == r)
                && filter.disabled.is_none_or(|d| u.disabled == d)
                && filter.after.is_none_or(|a| u.id > a)
        };
        // `users` is a BTreeMap: already in id order.
        Ok(take(
            st.users.values().filter(matches).cloned(),
            filter.limit,
        ))
    }

    async fn count_users_with_role(&self, role: Role) -> StoreResult<u64> {
        let n = self
            .lock()
            .users
            .values()
            .filter(|u| u.role == role && !u.disabled)
            .count();
        Ok(n as u64)
    }

    async fn list_agent_loads(&self) -> StoreResult<Vec<AgentLoad>> {
        let st = self.lock();
        let mut open: HashMap<UserId, i64> = HashMap::new();
        for t in st.tickets.values() {
            if let Some(a) = t.assignee_id
                && matches!(t.status, TicketStatus::New | TicketStatus::InProgress)
            {
                *open.entry(a).or_default() += 1;
            }
        }
        // `users` is a BTreeMap: already in id order.
        Ok(st
            .users
            .values()
            .filter(|u| u.role.is_staff() && !u.disabled)
            .map(|u| AgentLoad {
                user: u.clone(),
                open_tickets: open.get(&u.id).copied().unwrap_or(0),
            })
            .collect())
    }

    async fn update_user_erased(
        &self,
        id: UserId,
        placeholder: &str,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        let user = st.users.get_mut(&id).ok_or(StoreError::NotFound)?;
        user.display_name = placeholder.to_owned();
        user.email = None;
        user.email_normalized = None;
        user.contact_email = None;
        user.external_id = None;
        user.password_hash = None;
        user.disabled = true;
        user.version += 1;
        user.updated_at = now;
        st.revoke_sessions_of(id, None, now, REASON_ERASED);
        for ms in st.messages.values_mut() {
            for m in ms.iter_mut().filter(|m| m.author_id == Some(id)) {
                m.body = placeholder.to_owned();
            }
        }
        for t in st.tickets.values_mut().filter(|t| t.customer_id == id) {
            t.subject = placeholder.to_owned();
        }
        Ok(())
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn insert_session(
        &self,
        session: &Session,
        first_refresh: Option<&RefreshToken>,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        st.require_user(session.user_id)?;
        if st.sessions.contains_key(&session.id) {
            return Err(unique("sessions.id"));
        }
        if let Some(t) = first_refresh {
            if st.refresh_tokens.contains_key(&t.id) {
                return Err(unique("refresh_tokens.id"));
            }
            if t.session_id != session.id {
                return Err(StoreError::ForeignKey);
            }
            st.require_user(t.user_id)?;
        }
        st.sessions.insert(session.id, session.clone());
        if let Some(t) = first_refresh {
            st.refresh_tokens.insert(t.id, t.clone());
        }
        Ok(())
    }

    async fn fetch_session(&self, id: SessionId) -> StoreResult<Option<Session>> {
        Ok(self.lock().sessions.get(&id).cloned())
    }

    async fn fetch_refresh_token(&self, id: TokenId) -> StoreResult<Option<RefreshToken>> {
        Ok(self.lock().refresh_tokens.get(&id).cloned())
    }

    async fn rotate_refresh_token(
        &self,
        old: TokenId,
        successor: &RefreshToken,
        now: OffsetDateTime,
    ) -> StoreResult<RotateOutcome> {
        let mut st = self.lock();
        let token = st.refresh_tokens.get(&old).ok_or(StoreError::NotFound)?;
        let (session_id, user_id) = (token.session_id, token.user_id);
        if token.rotated_at.is_some() {
            // Reuse of a rotated token: revoke the family (keeping an earlier
            // revocation's time and reason if there is one).
            if let Some(s) = st.sessions.get_mut(&session_id)
                && s.revoked_at.is_none()
            {
                s.revoked_at = Some(now);
                s.revoke_reason = Some(REASON_REUSED.to_owned());
            }
            return Ok(RotateOutcome::Reused {
                session_id,
                user_id,
            });
        }
        let active = st
            .sessions
            .get(&session_id)
            .is_some_and(|s| s.is_active(now));
        if !active {
            return Ok(RotateOutcome::SessionInactive);
        }
        if st.refresh_tokens.contains_key(&successor.id) {
            return Err(unique("refresh_tokens.id"));
        }
        if successor.session_id != session_id {
            return Err(StoreError::ForeignKey);
        }
        if let Some(t) = st.refresh_tokens.get_mut(&old) {
            t.rotated_at = Some(now);
        }
        st.refresh_tokens.insert(successor.id, successor.clone());
        Ok(RotateOutcome::Rotated)
    }

    async fn revoke_session(
        &self,
        id: SessionId,
        now: OffsetDateTime,
        reason: &str,
    ) -> StoreResult<bool> {
        let mut st = self.lock();
        match st.sessions.get_mut(&id) {
            Some(s) if s.revoked_at.is_none() => {
                s.revoked_at = Some(now);
                s.revoke_reason = Some(reason.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        now: OffsetDateTime,
        reason: &str,
    ) -> StoreResult<u64> {
        Ok(self.lock().revoke_sessions_of(user_id, keep, now, reason))
    }

    async fn insert_reset_token(
        &self,
        token: &ResetToken,
        mail: &OutboxMessage,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        st.require_user(token.user_id)?;
        if st.reset_tokens.contains_key(&token.id) {
            return Err(unique("reset_tokens.id"));
        }
        if st.outbox.contains_key(&mail.id) {
            return Err(unique("outbox.id"));
        }
        st.reset_tokens.insert(token.id, token.clone());
        st.outbox.insert(mail.id, mail.clone());
        Ok(())
    }

    async fn fetch_reset_token(&self, id: TokenId) -> StoreResult<Option<ResetToken>> {
        Ok(self.lock().reset_tokens.get(&id).cloned())
    }

    async fn update_reset_token_used(
        &self,
        id: TokenId,
        new_password_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<UserId> {
        let mut st = self.lock();
        let token = st.reset_tokens.get(&id).ok_or(StoreError::NotFound)?;
        if token.used_at.is_some() || now >= token.expires_at {
            return Err(StoreError::Conflict);
        }
        let user_id = token.user_id;
        let user = st.users.get_mut(&user_id).ok_or(StoreError::NotFound)?;
        user.password_hash = Some(new_password_hash.to_owned());
        user.version += 1;
        user.updated_at = now;
        if let Some(t) = st.reset_tokens.get_mut(&id) {
            t.used_at = Some(now);
        }
        st.revoke_sessions_of(user_id, None, now, REASON_PASSWORD_RESET);
        Ok(user_id)
    }

    async fn delete_expired_tokens(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let mut st = self.lock();
        let before = st.refresh_tokens.len() + st.reset_tokens.len();
        st.refresh_tokens.retain(|_, t| t.expires_at >= now);
        st.reset_tokens.retain(|_, t| t.expires_at >= now);
        let after = st.refresh_tokens.len() + st.reset_tokens.len();
        Ok((before - after) as u64)
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn insert_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        let mut st = self.lock();
        if st.audit.contains_key(&entry.id) {
            return Err(unique("audit_log.id"));
        }
        st.audit.insert(entry.id, entry.clone());
        Ok(())
    }

    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let st = self.lock();
        let matches = |e: &&AuditEntry| {
            filter.actor_id.is_none_or(|a| e.actor_id == Some(a))
                && filter.action.is_none_or(|a| e.action == a)
                && filter.from.is_none_or(|f| e.at >= f)
                && filter.to.is_none_or(|t| e.at < t)
                && filter.before.is_none_or(|b| e.id < b)
        };
        Ok(take(
            st.audit.values().rev().filter(matches).cloned(),
            filter.limit,
        ))
    }

    async fn count_audit_by_actor(
        &self,
        action: AuditAction,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<(UserId, u64)>> {
        let st = self.lock();
        let mut counts: BTreeMap<UserId, u64> = BTreeMap::new();
        for e in st.audit.values() {
            if let Some(actor) = e.actor_id
                && e.action == action
                && e.at >= from
                && e.at < to
            {
                *counts.entry(actor).or_default() += 1;
            }
        }
        Ok(counts.into_iter().collect())
    }
}

#[async_trait]
impl TicketStore for MemoryStore {
    async fn insert_ticket_with_first_message(
        &self,
        ticket: &Ticket,
        first: &NewMessage,
    ) -> StoreResult<(Ticket, Message)> {
        let mut st = self.lock();
        if st.tickets.contains_key(&ticket.id) {
            return Err(unique("tickets.id"));
        }
        if st.message_ids.contains(&first.id) {
            return Err(unique("messages.id"));
        }
        st.check_ticket_refs(ticket)?;
        if let Some(a) = first.author_id {
            st.require_user(a)?;
        }
        if first.client_msg_id.is_some()
            && st
                .first_message_of(first.author_id, first.client_msg_id.as_deref())
                .is_some()
        {
            return Err(unique("tickets.first_message"));
        }
        st.last_ticket_number += 1;
        let mut stored = ticket.clone();
        stored.number = st.last_ticket_number;
        // The message fields are the store's: derived from the messages only.
        stored.last_seq = 0;
        stored.awaiting_since = None;
        stored.last_agent_seq = 0;
        stored.last_agent_message_at = None;
        let mut message = first.with_seq(1);
        message.ticket_id = ticket.id;
        apply_message_effects(&mut stored, &message);
        st.tickets.insert(stored.id, stored.clone());
        st.message_ids.insert(message.id);
        st.messages.insert(stored.id, vec![message.clone()]);
        Ok((stored, message))
    }

    async fn fetch_ticket(&self, id: TicketId) -> StoreResult<Option<Ticket>> {
        Ok(self.lock().tickets.get(&id).cloned())
    }

    async fn fetch_ticket_by_first_message(
        &self,
        author: UserId,
        client_msg_id: &str,
    ) -> StoreResult<Option<(Ticket, Message)>> {
        let st = self.lock();
        Ok(st
            .first_message_of(Some(author), Some(client_msg_id))
            .and_then(|m| st.tickets.get(&m.ticket_id).map(|t| (t.clone(), m.clone()))))
    }

    async fn update_ticket(
        &self,
        ticket: &Ticket,
        expected_version: i64,
        mail: Option<&OutboxMessage>,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        match st.tickets.get(&ticket.id) {
            None => return Err(StoreError::NotFound),
            Some(stored) if stored.version != expected_version => {
                return Err(StoreError::Conflict);
            }
            Some(_) => {}
        }
        // `customer_id` is never changed, so only the other references are checked.
        if let Some(a) = ticket.assignee_id {
            st.require_user(a)?;
        }
        if let Some(c) = ticket.category_id
            && !st.categories.contains_key(&c)
        {
            return Err(StoreError::ForeignKey);
        }
        if let Some(m) = mail
            && st.outbox.contains_key(&m.id)
        {
            return Err(unique("outbox.id"));
        }
        let stored = st.tickets.get_mut(&ticket.id).ok_or(StoreError::NotFound)?;
        stored.status = ticket.status;
        stored.priority = ticket.priority;
        stored.category_id = ticket.category_id;
        stored.assignee_id = ticket.assignee_id;
        stored.updated_at = ticket.updated_at;
        stored.first_response_at = ticket.first_response_at;
        stored.resolved_at = ticket.resolved_at;
        stored.closed_at = ticket.closed_at;
        stored.customer_notified_seq = ticket.customer_notified_seq;
        stored.escalated_new_at = ticket.escalated_new_at;
        stored.escalated_awaiting_since = ticket.escalated_awaiting_since;
        stored.version = ticket.version;
        if let Some(m) = mail {
            st.outbox.insert(m.id, m.clone());
        }
        Ok(())
    }

    async fn list_tickets(&self, filter: &TicketFilter) -> StoreResult<Vec<Ticket>> {
        let st = self.lock();
        let words = filter.text.as_deref().map(search_words).unwrap_or_default();
        let sort = filter.sort;
        let ascending = sort == TicketSort::CreatedAsc;
        let position = |t: &Ticket| {
            let c = TicketCursor::of(t, sort);
            (c.key, c.id)
        };
        let mut page: Vec<&Ticket> = st
            .tickets
            .values()
            .filter(|t| {
                filter.customer_id.is_none_or(|c| t.customer_id == c)
                    && (filter.statuses.is_empty() || filter.statuses.contains(&t.status))
                    && filter.category_id.is_none_or(|c| t.category_id == Some(c))
                    && (filter.priorities.is_empty() || filter.priorities.contains(&t.priority))
                    && match filter.assignee {
                        AssigneeFilter::Any => true,
                        AssigneeFilter::Unassigned => t.assignee_id.is_none(),
                        AssigneeFilter::User(u) => t.assignee_id == Some(u),
                    }
                    && in_range(t.created_at, filter.created_from, filter.created_to)
                    && in_range(t.updated_at, filter.updated_from, filter.updated_to)
                    && filter.after.is_none_or(|a| {
                        let (pos, cur) = (position(t), (a.key, a.id));
                        if ascending { pos > cur } else { pos < cur }
                    })
                    && (words.is_empty()
                        || st.ticket_matches_text(t, &words, filter.include_internal))
            })
            .collect();
        if ascending {
            page.sort_by_key(|t| position(t));
        } else {
            page.sort_by_key(|t| std::cmp::Reverse(position(t)));
        }
        Ok(take(page.into_iter().cloned(), filter.limit))
    }

    async fn list_escalation_candidates(
        &self,
        new_before: OffsetDateTime,
        awaiting_before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>> {
        let st = self.lock();
        let mut due: Vec<&Ticket> = st
            .tickets
            .values()
            .filter(|t| {
                let still_new = t.status == TicketStatus::New
                    && t.created_at <= new_before
                    && t.escalated_new_at.is_none();
                let unanswered = matches!(t.status, TicketStatus::New | TicketStatus::InProgress)
                    && t.awaiting_since.is_some_and(|a| a <= awaiting_before)
                    && t.escalated_awaiting_since != t.awaiting_since;
                still_new || unanswered
            })
            .collect();
        due.sort_by_key(|t| (t.created_at, t.id));
        Ok(take(due.into_iter().cloned(), limit))
    }

    async fn list_tickets_to_close(
        &self,
        resolved_before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>> {
        let st = self.lock();
        let mut due: Vec<&Ticket> = st
            .tickets
            .values()
            .filter(|t| {
                t.status == TicketStatus::Resolved
                    && t.resolved_at.is_some_and(|r| r <= resolved_before)
            })
            .collect();
        due.sort_by_key(|t| (t.resolved_at, t.id));
        Ok(take(due.into_iter().cloned(), limit))
    }

    async fn list_notifications_due(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>> {
        let st = self.lock();
        let mut due: Vec<&Ticket> = st
            .tickets
            .values()
            .filter(|t| {
                let read_seq = st
                    .receipts
                    .get(&(t.id, t.customer_id))
                    .map_or(0, |r| r.read_seq);
                t.status != TicketStatus::Closed
                    && t.last_agent_message_at.is_some_and(|a| a <= before)
                    && t.last_agent_seq > t.customer_notified_seq
                    && t.last_agent_seq > read_seq
            })
            .collect();
        due.sort_by_key(|t| (t.last_agent_message_at, t.id));
        Ok(take(due.into_iter().cloned(), limit))
    }

    async fn list_tickets_in_window(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<Ticket>> {
        let st = self.lock();
        let mut hits: Vec<&Ticket> = st
            .tickets
            .values()
            .filter(|t| {
                in_range(t.created_at, Some(from), Some(to))
                    || t.resolved_at
                        .is_some_and(|r| in_range(r, Some(from), Some(to)))
            })
            .collect();
        hits.sort_by_key(|t| (t.created_at, t.id));
        Ok(hits.into_iter().cloned().collect())
    }
}

#[async_trait]
impl MessageStore for MemoryStore {
    async fn insert_message(&self, message: &NewMessage) -> StoreResult<InsertMessage> {
        let mut st = self.lock();
        let Some(ticket) = st.tickets.get(&message.ticket_id) else {
            return Err(StoreError::NotFound);
        };
        let closed = ticket.status == TicketStatus::Closed;
        if message.client_msg_id.is_some()
            && let Some(original) = st.messages.get(&message.ticket_id).and_then(|ms| {
                ms.iter().find(|m| {
                    m.author_id == message.author_id && m.client_msg_id == message.client_msg_id
                })
            })
        {
            return Ok(InsertMessage::Duplicate(original.clone()));
        }
        if closed {
            return Err(StoreError::Conflict);
        }
        if st.message_ids.contains(&message.id) {
            return Err(unique("messages.id"));
        }
        if let Some(a) = message.author_id {
            st.require_user(a)?;
        }
        let ticket = st
            .tickets
            .get_mut(&message.ticket_id)
            .ok_or(StoreError::NotFound)?;
        let stored = message.with_seq(ticket.last_seq + 1);
        apply_message_effects(ticket, &stored);
        let ticket = ticket.clone();
        st.message_ids.insert(stored.id);
        st.messages
            .entry(message.ticket_id)
            .or_default()
            .push(stored.clone());
        Ok(InsertMessage::Inserted {
            message: stored,
            ticket,
        })
    }

    async fn list_messages_after(
        &self,
        ticket_id: TicketId,
        after_seq: i64,
        limit: u32,
        include_internal: bool,
    ) -> StoreResult<Vec<Message>> {
        let st = self.lock();
        let Some(ms) = st.messages.get(&ticket_id) else {
            return Ok(Vec::new());
        };
        Ok(take(
            ms.iter()
                .filter(|m| m.seq > after_seq && visible(m, include_internal))
                .cloned(),
            limit,
        ))
    }

    async fn list_messages_before(
        &self,
        ticket_id: TicketId,
        before_seq: i64,
        limit: u32,
        include_internal: bool,
    ) -> StoreResult<Vec<Message>> {
        let st = self.lock();
        let Some(ms) = st.messages.get(&ticket_id) else {
            return Ok(Vec::new());
        };
        let mut page = take(
            ms.iter()
                .rev()
                .filter(|m| m.seq < before_seq && visible(m, include_internal))
                .cloned(),
            limit,
        );
        page.reverse();
        Ok(page)
    }

    async fn update_receipt(
        &self,
        ticket_id: TicketId,
        user_id: UserId,
        delivered_seq: i64,
        read_seq: i64,
        now: OffsetDateTime,
    ) -> StoreResult<Receipt> {
        let mut st = self.lock();
        if !st.tickets.contains_key(&ticket_id) {
            return Err(StoreError::ForeignKey);
        }
        st.require_user(user_id)?;
        let r = st
            .receipts
            .entry((ticket_id, user_id))
            .or_insert_with(|| Receipt {
                ticket_id,
                user_id,
                delivered_seq: 0,
                read_seq: 0,
                updated_at: now,
            });
        let read = r.read_seq.max(read_seq);
        let delivered = r.delivered_seq.max(delivered_seq).max(read_seq);
        if (delivered, read) != (r.delivered_seq, r.read_seq) {
            r.delivered_seq = delivered;
            r.read_seq = read;
            r.updated_at = now;
        }
        Ok(r.clone())
    }

    async fn list_receipts(&self, ticket_id: TicketId) -> StoreResult<Vec<Receipt>> {
        // Keyed by `(ticket, user)`: the ticket's receipts come in user order.
        Ok(self
            .lock()
            .receipts
            .values()
            .filter(|r| r.ticket_id == ticket_id)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl CategoryStore for MemoryStore {
    async fn insert_category(&self, category: &Category) -> StoreResult<()> {
        let mut st = self.lock();
        if st.categories.contains_key(&category.id) {
            return Err(unique("categories.id"));
        }
        st.check_category_unique(category)?;
        st.categories.insert(category.id, category.clone());
        Ok(())
    }

    async fn fetch_category(&self, id: CategoryId) -> StoreResult<Option<Category>> {
        Ok(self.lock().categories.get(&id).cloned())
    }

    async fn update_category(&self, category: &Category) -> StoreResult<()> {
        let mut st = self.lock();
        if !st.categories.contains_key(&category.id) {
            return Err(StoreError::NotFound);
        }
        st.check_category_unique(category)?;
        let stored = st
            .categories
            .get_mut(&category.id)
            .ok_or(StoreError::NotFound)?;
        stored.name = category.name.clone();
        stored.archived = category.archived;
        Ok(())
    }

    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        let st = self.lock();
        let mut all: Vec<Category> = st.categories.values().cloned().collect();
        all.sort_by_cached_key(|c| (c.name.to_lowercase(), c.id));
        Ok(all)
    }
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn insert_outbox(&self, mail: &OutboxMessage) -> StoreResult<()> {
        let mut st = self.lock();
        if st.outbox.contains_key(&mail.id) {
            return Err(unique("outbox.id"));
        }
        st.outbox.insert(mail.id, mail.clone());
        Ok(())
    }

    async fn claim_outbox(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>> {
        let mut st = self.lock();
        let mut due: Vec<(OffsetDateTime, OutboxId)> = st
            .outbox
            .values()
            .filter(|m| m.sent_at.is_none() && m.next_attempt_at <= now)
            .map(|m| (m.created_at, m.id))
            .collect();
        due.sort();
        let mut claimed = Vec::new();
        for (_, id) in take(due.into_iter(), limit) {
            if let Some(m) = st.outbox.get_mut(&id) {
                m.attempts = m.attempts.saturating_add(1);
                m.next_attempt_at = lease_until;
                claimed.push(m.clone());
            }
        }
        Ok(claimed)
    }

    async fn update_outbox_sent(&self, id: OutboxId, now: OffsetDateTime) -> StoreResult<()> {
        let mut st = self.lock();
        let m = st.outbox.get_mut(&id).ok_or(StoreError::NotFound)?;
        m.sent_at = Some(now);
        Ok(())
    }

    async fn update_outbox_failed(
        &self,
        id: OutboxId,
        error: &str,
        retry_at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut st = self.lock();
        let m = st.outbox.get_mut(&id).ok_or(StoreError::NotFound)?;
        m.last_error = Some(error.to_owned());
        m.next_attempt_at = retry_at;
        Ok(())
    }

    async fn fetch_outbox(&self, id: OutboxId) -> StoreResult<Option<OutboxMessage>> {
        Ok(self.lock().outbox.get(&id).cloned())
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}
