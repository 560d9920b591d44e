//! Sessions and the secrets bound to them: refresh tokens, visitor tokens,
//! password-reset tokens. Only SHA-256 hashes of secrets are ever stored.

use super::ids::{SessionId, TokenId, UserId};
use time::OffsetDateTime;

/// How a session was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// Email + password login (access + rotating refresh tokens).
    Password,
    /// A widget visitor session, authenticated by a long-lived visitor token.
    Visitor,
}

impl SessionKind {
    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Password => "password",
            SessionKind::Visitor => "visitor",
        }
    }

    /// Parses a stable name produced by [`SessionKind::as_str`].
    pub fn parse(s: &str) -> Option<SessionKind> {
        match s {
            "password" => Some(SessionKind::Password),
            "visitor" => Some(SessionKind::Visitor),
            _ => None,
        }
    }
}

/// A session: one login (the family all its refresh tokens belong to) or one
/// widget visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Identity; carried in access tokens as `sid`.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Password login or widget visitor.
    pub kind: SessionKind,
    /// SHA-256 of the visitor token's secret (visitor sessions only).
    pub secret_hash: Option<Vec<u8>>,
    /// Start.
    pub created_at: OffsetDateTime,
    /// Hard end of the session, whatever refreshes happen.
    pub expires_at: OffsetDateTime,
    /// Set once when logged out or revoked; never cleared.
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked (`logout`, `refresh_token_reused`, `password_reset`, `disabled`, ...).
    pub revoke_reason: Option<String>,
}

impl Session {
    /// Not revoked and not expired at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// One refresh token of a session. Rotation marks it `rotated_at` and issues a
/// successor; presenting a rotated token again is theft and revokes the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// Public id (the first part of the token string).
    pub id: TokenId,
    /// The family.
    pub session_id: SessionId,
    /// Owner (denormalised so a lookup needs one row).
    pub user_id: UserId,
    /// SHA-256 of the secret part.
    pub secret_hash: Vec<u8>,
    /// When issued.
    pub issued_at: OffsetDateTime,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
    /// Set when exchanged for a successor.
    pub rotated_at: Option<OffsetDateTime>,
}

/// Result of [`SessionStore::rotate_refresh_token`](crate::ports::SessionStore::rotate_refresh_token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The old token was current; it is now rotated and the successor stored.
    Rotated,
    /// The old token had been rotated already: the whole session is now revoked.
    Reused {
        /// The revoked session.
        session_id: SessionId,
        /// Its owner.
        user_id: UserId,
    },
    /// The session is revoked or expired; nothing changed.
    SessionInactive,
}

/// A single-use password-reset token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetToken {
    /// Public id.
    pub id: TokenId,
    /// Whose password it resets.
    pub user_id: UserId,
    /// SHA-256 of the secret part.
    pub secret_hash: Vec<u8>,
    /// When requested.
    pub created_at: OffsetDateTime,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
    /// Set once when used.
    pub used_at: Option<OffsetDateTime>,
}
