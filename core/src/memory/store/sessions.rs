//! [`SessionStore`] for [`MemoryStore`]: sessions, refresh token rotation and
//! password reset tokens.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{
    OutboxMessage, RefreshToken, ResetToken, RotateOutcome, Session, SessionId, TokenId, UserId,
};
use crate::ports::store::{SessionStore, StoreError, StoreResult};

use super::{MemoryStore, REASON_PASSWORD_RESET, REASON_REUSED, unique};

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
