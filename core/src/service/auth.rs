//! Registration, login, refresh-token rotation, logout, password reset and
//! change, and turning a bearer token into a [`Principal`].

use neurochat_protocol::v1::{ErrorCode, FieldErrorCode};
use time::OffsetDateTime;

use crate::Desk;
use crate::domain::validate;
use crate::domain::{
    AuditAction, OutboxId, OutboxMessage, RefreshToken, ResetToken, Role, RotateOutcome, Session,
    SessionId, SessionKind, TokenId, User, UserId,
};
use crate::error::{Error, Result};
use crate::events::{Event, Topic};
use crate::ports::StoreError;
use crate::principal::{Principal, RequestContext};
use crate::service::secrets::{self, SecretKind};
use crate::service::tokens::AccessClaims;

/// A new customer account.
#[derive(Clone)]
pub struct Registration {
    /// Login email; normalised to lower case, unique.
    pub email: String,
    /// 8..=128 characters.
    pub password: String,
    /// 1..=80 characters after trimming.
    pub display_name: String,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("email", &self.email)
            .field("password", &"***")
            .field("display_name", &self.display_name)
            .finish()
    }
}

/// The token pair a client holds after login or refresh.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthTokens {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// When the access token expires.
    pub access_expires_at: OffsetDateTime,
    /// Single-use opaque refresh token.
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_expires_at: OffsetDateTime,
    /// The session (refresh-token family).
    pub session_id: SessionId,
}

impl std::fmt::Debug for AuthTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthTokens")
            .field("access_token", &"***")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_token", &"***")
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("session_id", &self.session_id)
            .finish()
    }
}

/// A logged-in user with their tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSession {
    /// The user as stored.
    pub user: User,
    /// Their tokens.
    pub tokens: AuthTokens,
}

impl Desk {
    /// Registers a customer and logs them in.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, input: Registration, ctx: &RequestContext) -> Result<AuthSession> {
        let user = self
            .insert_password_user(
                &input.email,
                &input.password,
                &input.display_name,
                Role::Customer,
            )
            .await?;
        self.audit(
            Some(user.id),
            AuditAction::UserRegistered,
            Some(("user", user.id.to_string())),
            ctx,
            None,
        )
        .await;
        let tokens = self.start_password_session(&user, self.now()).await?;
        Ok(AuthSession { user, tokens })
    }

    /// Logs in with email and password. Unknown email and wrong password are
    /// indistinguishable, also in time (a dummy hash is verified).
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        ctx: &RequestContext,
    ) -> Result<AuthSession> {
        let mut bad = Vec::new();
        if email.trim().is_empty() {
            bad.push(crate::error::FieldViolation::new(
                "email",
                FieldErrorCode::Required,
                "Email is required.",
            ));
        }
        if password.is_empty() {
            bad.push(crate::error::FieldViolation::new(
                "password",
                FieldErrorCode::Required,
                "Password is required.",
            ));
        }
        validate::finish(bad)?;
        let normalized = email.trim().to_lowercase();
        if normalized.chars().count() > validate::EMAIL_MAX
            || password.chars().count() > validate::PASSWORD_MAX
        {
            // Longer inputs can never match; refuse before spending argon2 time on them.
            self.audit(
                None,
                AuditAction::LoginFailed,
                None,
                ctx,
                Some("oversized input"),
            )
            .await;
            return Err(Error::Auth(ErrorCode::InvalidCredentials));
        }
        let user = self.inner.store.fetch_user_by_email(&normalized).await?;
        let phc = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let ok = self.inner.hasher.verify(password, phc).await?;
        let Some(user) = user.filter(|_| ok) else {
            self.audit(
                None,
                AuditAction::LoginFailed,
                Some(("email", normalized)),
                ctx,
                Some("bad credentials"),
            )
            .await;
            return Err(Error::Auth(ErrorCode::InvalidCredentials));
        };
        if user.disabled {
            self.audit(
                Some(user.id),
                AuditAction::LoginFailed,
                Some(("user", user.id.to_string())),
                ctx,
                Some("disabled"),
            )
            .await;
            return Err(Error::Auth(ErrorCode::AccountDisabled));
        }
        let user = self.rehash_if_needed(user, password).await;
        let tokens = self.start_password_session(&user, self.now()).await?;
        self.audit(
            Some(user.id),
            AuditAction::LoginSucceeded,
            Some(("session", tokens.session_id.to_string())),
            ctx,
            None,
        )
        .await;
        Ok(AuthSession { user, tokens })
    }

    /// Exchanges a refresh token for a new token pair. The presented token is
    /// spent; presenting it again revokes the whole session (theft detection).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str, ctx: &RequestContext) -> Result<AuthSession> {
        let invalid = || Error::Auth(ErrorCode::TokenInvalid);
        let (id, hash) = secrets::parse(SecretKind::Refresh, refresh_token).ok_or_else(invalid)?;
        let store = &self.inner.store;
        let old = store
            .fetch_refresh_token(TokenId(id))
            .await?
            .ok_or_else(invalid)?;
        if !secrets::hashes_match(&hash, &old.secret_hash) {
            return Err(invalid());
        }
        let now = self.now();
        if old.rotated_at.is_none() && now >= old.expires_at {
            return Err(Error::Auth(ErrorCode::TokenExpired));
        }
        let session = store
            .fetch_session(old.session_id)
            .await?
            .ok_or(Error::Auth(ErrorCode::SessionRevoked))?;
        let user = store
            .fetch_user(old.user_id)
            .await?
            .ok_or(Error::Auth(ErrorCode::SessionRevoked))?;
        if user.disabled {
            return Err(Error::Auth(ErrorCode::AccountDisabled));
        }
        let successor_id = TokenId(self.new_uuid());
        let minted = secrets::mint(SecretKind::Refresh, successor_id.0);
        let successor = RefreshToken {
            id: successor_id,
            session_id: session.id,
            user_id: user.id,
            secret_hash: minted.hash,
            issued_at: now,
            expires_at: (now + self.inner.config.tokens.refresh_ttl).min(session.expires_at),
            rotated_at: None,
        };
        match store.rotate_refresh_token(old.id, &successor, now).await {
            Ok(RotateOutcome::Rotated) => {}
            Ok(RotateOutcome::Reused {
                session_id,
                user_id,
            }) => {
                tracing::warn!(%session_id, %user_id, "refresh token reuse: session revoked");
                self.audit(
                    Some(user_id),
                    AuditAction::RefreshTokenReused,
                    Some(("session", session_id.to_string())),
                    ctx,
                    Some("session revoked"),
                )
                .await;
                self.publish_sessions_revoked(user_id, Some(session_id))
                    .await;
                return Err(Error::Auth(ErrorCode::RefreshTokenReused));
            }
            Ok(RotateOutcome::SessionInactive) => {
                return Err(Error::Auth(ErrorCode::SessionRevoked));
            }
            Err(StoreError::NotFound) => return Err(invalid()),
            Err(e) => return Err(e.into()),
        }
        let (access_token, access_expires_at) = self
            .inner
            .tokens
            .issue(user.id, session.id, user.role, now)?;
        Ok(AuthSession {
            tokens: AuthTokens {
                access_token,
                access_expires_at,
                refresh_token: minted.token,
                refresh_expires_at: successor.expires_at,
                session_id: session.id,
            },
            user,
        })
    }

    /// Ends the principal's session: its refresh tokens stop working and its
    /// access tokens are rejected by [`Desk::authenticate`] from now on.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, principal: &Principal, ctx: &RequestContext) -> Result<()> {
        let Some(sid) = principal.session_id else {
            return Ok(());
        };
        if self
            .inner
            .store
            .revoke_session(sid, self.now(), "logout")
            .await?
        {
            self.audit(
                Some(principal.user_id),
                AuditAction::Logout,
                Some(("session", sid.to_string())),
                ctx,
                None,
            )
            .await;
            self.publish_sessions_revoked(principal.user_id, Some(sid))
                .await;
        }
        Ok(())
    }

    /// Checks an access token's signature, key, algorithm, issuer, audience and
    /// expiry — no storage access. Use [`Desk::authenticate`] to act on it.
    pub fn verify_access_token(&self, token: &str) -> Result<AccessClaims> {
        self.inner.tokens.verify(token, self.now())
    }

    /// Turns an access token into a [`Principal`]: verifies it, then checks that
    /// its session is still active and its user enabled, and takes the role
    /// from the store (so a demotion or logout is effective at once).
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal> {
        let claims = self.verify_access_token(access_token)?;
        let store = &self.inner.store;
        let session = store
            .fetch_session(claims.session_id)
            .await?
            .filter(|s| s.is_active(self.now()))
            .ok_or(Error::Auth(ErrorCode::SessionRevoked))?;
        if session.user_id != claims.user_id {
            return Err(Error::Auth(ErrorCode::TokenInvalid));
        }
        self.principal_for(session).await
    }

    /// Authenticates either kind of bearer credential a client may hold: a
    /// widget visitor token (`ncv_…`) or an access JWT.
    pub async fn authenticate_bearer(&self, token: &str) -> Result<Principal> {
        if token.starts_with("ncv_") {
            self.authenticate_visitor(token).await
        } else {
            self.authenticate(token).await
        }
    }

    pub(crate) async fn principal_for(&self, session: Session) -> Result<Principal> {
        let user = self
            .inner
            .store
            .fetch_user(session.user_id)
            .await?
            .ok_or(Error::Auth(ErrorCode::SessionRevoked))?;
        if user.disabled {
            return Err(Error::Auth(ErrorCode::AccountDisabled));
        }
        Ok(Principal {
            user_id: user.id,
            role: user.role,
            session_id: Some(session.id),
        })
    }

    /// Starts a password reset. Always succeeds the same way whether or not the
    /// email belongs to an account; if it does, a single-use token valid for
    /// the configured time is mailed through the outbox.
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(&self, email: &str, ctx: &RequestContext) -> Result<()> {
        let mut bad = Vec::new();
        let Some(email) = validate::email("email", email, &mut bad) else {
            return Err(Error::Validation(bad));
        };
        let Some(user) = self
            .inner
            .store
            .fetch_user_by_email(&email.normalized)
            .await?
        else {
            return Ok(());
        };
        let (Some(to), false) = (user.email.clone(), user.disabled) else {
            return Ok(());
        };
        let now = self.now();
        let id = TokenId(self.new_uuid());
        let minted = secrets::mint(SecretKind::Reset, id.0);
        let token = ResetToken {
            id,
            user_id: user.id,
            secret_hash: minted.hash,
            created_at: now,
            expires_at: now + self.inner.config.reset_ttl,
            used_at: None,
        };
        let mail = self.reset_mail(to, &minted.token, now);
        self.inner.store.insert_reset_token(&token, &mail).await?;
        self.audit(
            Some(user.id),
            AuditAction::PasswordResetRequested,
            Some(("user", user.id.to_string())),
            ctx,
            None,
        )
        .await;
        Ok(())
    }

    /// Completes a password reset: sets the new password, spends the token and
    /// revokes every session of the user.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_password_reset(
        &self,
        token: &str,
        new_password: &str,
        ctx: &RequestContext,
    ) -> Result<()> {
        let invalid = || Error::Auth(ErrorCode::ResetTokenInvalid);
        let mut bad = Vec::new();
        validate::password("new_password", new_password, &mut bad);
        validate::finish(bad)?;
        let (id, hash) = secrets::parse(SecretKind::Reset, token).ok_or_else(invalid)?;
        let stored = self
            .inner
            .store
            .fetch_reset_token(TokenId(id))
            .await?
            .ok_or_else(invalid)?;
        if !secrets::hashes_match(&hash, &stored.secret_hash)
            || stored.used_at.is_some()
            || self.now() >= stored.expires_at
        {
            return Err(invalid());
        }
        let phc = self.inner.hasher.hash(new_password).await?;
        let user_id = match self
            .inner
            .store
            .update_reset_token_used(stored.id, &phc, self.now())
            .await
        {
            Ok(u) => u,
            Err(StoreError::NotFound | StoreError::Conflict) => return Err(invalid()),
            Err(e) => return Err(e.into()),
        };
        self.audit(
            Some(user_id),
            AuditAction::PasswordResetCompleted,
            Some(("user", user_id.to_string())),
            ctx,
            None,
        )
        .await;
        self.publish_sessions_revoked(user_id, None).await;
        Ok(())
    }

    /// Changes the principal's own password (the old one is required). Every
    /// other session of the user is revoked; the current one stays.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        principal: &Principal,
        old_password: &str,
        new_password: &str,
        ctx: &RequestContext,
    ) -> Result<()> {
        let mut bad = Vec::new();
        if old_password.is_empty() {
            bad.push(crate::error::FieldViolation::new(
                "old_password",
                FieldErrorCode::Required,
                "The current password is required.",
            ));
        }
        validate::password("new_password", new_password, &mut bad);
        validate::finish(bad)?;
        let mut user = self.fetch_user_required(principal.user_id).await?;
        if user.password_hash.is_none()
            || !self
                .inner
                .hasher
                .verify(old_password, user.password_hash.as_deref())
                .await?
        {
            return Err(Error::Auth(ErrorCode::InvalidCredentials));
        }
        let phc = self.inner.hasher.hash(new_password).await?;
        self.save_user(&mut user, |u| u.password_hash = Some(phc))
            .await?;
        let now = self.now();
        self.inner
            .store
            .revoke_user_sessions(user.id, principal.session_id, now, "password_changed")
            .await?;
        self.audit(
            Some(user.id),
            AuditAction::PasswordChanged,
            Some(("user", user.id.to_string())),
            ctx,
            None,
        )
        .await;
        self.publish_sessions_revoked(user.id, None).await;
        Ok(())
    }

    /// Creates the first admin if there is none yet (for server start-up; there
    /// is no principal because nobody can log in before). Returns `None` when
    /// an admin already exists.
    pub async fn bootstrap_admin(
        &self,
        email: &str,
        password: &str,
        display_name: &str,
    ) -> Result<Option<User>> {
        if self.inner.store.count_users_with_role(Role::Admin).await? > 0 {
            return Ok(None);
        }
        let user = self
            .insert_password_user(email, password, display_name, Role::Admin)
            .await?;
        Ok(Some(user))
    }

    /// Validates (reporting every bad field), hashes and stores a user who
    /// logs in with email and password.
    async fn insert_password_user(
        &self,
        email: &str,
        password: &str,
        display_name: &str,
        role: Role,
    ) -> Result<User> {
        let mut bad = Vec::new();
        let email = validate::email("email", email, &mut bad);
        validate::password("password", password, &mut bad);
        let name = validate::display_name("display_name", display_name, &mut bad);
        let (Some(email), Some(name)) = (email, name) else {
            return Err(Error::Validation(bad));
        };
        validate::finish(bad)?;
        let user = User {
            email: Some(email.display),
            email_normalized: Some(email.normalized),
            password_hash: Some(self.inner.hasher.hash(password).await?),
            verified: true,
            ..User::new(UserId(self.new_uuid()), name, role, self.now())
        };
        self.inner
            .store
            .insert_user(&user)
            .await
            .map_err(map_unique)?;
        Ok(user)
    }

    async fn start_password_session(&self, user: &User, now: OffsetDateTime) -> Result<AuthTokens> {
        let cfg = &self.inner.config.tokens;
        let session = Session {
            id: SessionId(self.new_uuid()),
            user_id: user.id,
            kind: SessionKind::Password,
            secret_hash: None,
            created_at: now,
            expires_at: now + cfg.session_max_age,
            revoked_at: None,
            revoke_reason: None,
        };
        let rid = TokenId(self.new_uuid());
        let minted = secrets::mint(SecretKind::Refresh, rid.0);
        let refresh = RefreshToken {
            id: rid,
            session_id: session.id,
            user_id: user.id,
            secret_hash: minted.hash,
            issued_at: now,
            expires_at: (now + cfg.refresh_ttl).min(session.expires_at),
            rotated_at: None,
        };
        self.inner
            .store
            .insert_session(&session, Some(&refresh))
            .await?;
        let (access_token, access_expires_at) = self
            .inner
            .tokens
            .issue(user.id, session.id, user.role, now)?;
        Ok(AuthTokens {
            access_token,
            access_expires_at,
            refresh_token: minted.token,
            refresh_expires_at: refresh.expires_at,
            session_id: session.id,
        })
    }

    /// After a successful login, upgrades a hash made with older parameters.
    /// Best effort: a failure here must not fail the login.
    async fn rehash_if_needed(&self, user: User, password: &str) -> User {
        let Some(phc) = user.password_hash.as_deref() else {
            return user;
        };
        if !self.inner.hasher.needs_rehash(phc) {
            return user;
        }
        let Ok(new_phc) = self.inner.hasher.hash(password).await else {
            return user;
        };
        let mut updated = user.clone();
        match self
            .save_user(&mut updated, |u| u.password_hash = Some(new_phc))
            .await
        {
            Ok(()) => updated,
            Err(e) => {
                tracing::debug!(error = %e, "password rehash skipped");
                user
            }
        }
    }

    fn reset_mail(&self, to: String, token: &str, now: OffsetDateTime) -> OutboxMessage {
        let mail = &self.inner.config.mail;
        let minutes = self.inner.config.reset_ttl.whole_minutes();
        let how = match &mail.reset_link_template {
            Some(t) => format!(
                "Open this link to choose a new password:\n\n{}\n",
                t.replace(crate::config::RESET_TOKEN_PLACEHOLDER, token)
            ),
            None => format!("Use this code to choose a new password:\n\n{token}\n"),
        };
        OutboxMessage {
            id: OutboxId(self.new_uuid()),
            recipient: to,
            subject: format!("Reset your {} password", mail.product_name),
            body: format!(
                "Someone asked to reset the password of your {} account.\n\n{how}\nIt works once and expires in {minutes} minutes. If you did not ask for this, ignore this mail.\n",
                mail.product_name
            ),
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            sent_at: None,
        }
    }

    pub(crate) async fn fetch_user_required(&self, id: UserId) -> Result<User> {
        self.inner
            .store
            .fetch_user(id)
            .await?
            .ok_or(Error::NotFound("user"))
    }

    pub(crate) async fn publish_sessions_revoked(
        &self,
        user_id: UserId,
        session_id: Option<SessionId>,
    ) {
        let event = Event::SessionsRevoked {
            user_id,
            session_id,
        };
        if let Err(e) = self.inner.bus.publish(Topic::User(user_id), event).await {
            // The revocation is stored; live sockets re-check on their next token check.
            tracing::warn!(error = %e, "could not publish session revocation");
        }
    }
}

/// Maps a unique violation on users to its domain error.
pub(crate) fn map_unique(e: StoreError) -> Error {
    match e {
        StoreError::UniqueViolation {
            constraint: "users.email",
        } => Error::rule(
            ErrorCode::EmailTaken,
            "This email address is already registered.",
        ),
        other => other.into(),
    }
}
