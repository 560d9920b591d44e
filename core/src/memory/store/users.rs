//! [`UserStore`] for [`MemoryStore`]: users, their lists, counts and erasure.

use std::collections::HashMap;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{AgentLoad, Role, TicketStatus, User, UserFilter, UserId};
use crate::ports::store::{StoreError, StoreResult, UserStore};

use super::{MemoryStore, REASON_DISABLED, REASON_ERASED, take, unique};

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
