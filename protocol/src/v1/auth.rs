//! REST bodies for registration, login, token refresh, password management and
//! widget visitor sessions.
//!
//! Every type here that holds a password or token implements `Debug` by hand
//! and prints the secret as `***`, so logging a request never leaks it.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::redact::{Redacted, redact_opt};
use super::users::UserView;

/// Register: create a customer account with a password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The login email address.
    pub email: String,
    /// The new password (secret).
    pub password: String,
    /// The name shown to agents and in the chat.
    pub display_name: String,
}

impl fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            email,
            password: _,
            display_name,
        } = self;
        f.debug_struct("RegisterRequest")
            .field("email", email)
            .field("password", &Redacted)
            .field("display_name", display_name)
            .finish()
    }
}

/// Login: exchange email and password for tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The login email address.
    pub email: String,
    /// The password (secret).
    pub password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { email, password: _ } = self;
        f.debug_struct("LoginRequest")
            .field("email", email)
            .field("password", &Redacted)
            .finish()
    }
}

/// Refresh: rotate a refresh token for a new token pair.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The current refresh token (secret); single use.
    pub refresh_token: String,
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { refresh_token: _ } = self;
        f.debug_struct("RefreshRequest")
            .field("refresh_token", &Redacted)
            .finish()
    }
}

/// Logout: end the session of the access token, or of the given refresh token
/// when present.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// The refresh token of the session to end (secret), if the client has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl fmt::Debug for LogoutRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { refresh_token } = self;
        f.debug_struct("LogoutRequest")
            .field("refresh_token", &redact_opt(refresh_token))
            .finish()
    }
}

/// Password reset request: email a reset link (answers success either way, so
/// it does not reveal whether the address is registered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The account's email address.
    pub email: String,
}

/// Password reset confirmation: set a new password with a reset token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The single-use reset token from the email (secret).
    pub token: String,
    /// The new password (secret).
    pub new_password: String,
}

impl fmt::Debug for PasswordResetConfirm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            token: _,
            new_password: _,
        } = self;
        f.debug_struct("PasswordResetConfirm")
            .field("token", &Redacted)
            .field("new_password", &Redacted)
            .finish()
    }
}

/// Change the password of the signed-in user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password (secret).
    pub old_password: String,
    /// The new password (secret).
    pub new_password: String,
}

impl fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            old_password: _,
            new_password: _,
        } = self;
        f.debug_struct("ChangePasswordRequest")
            .field("old_password", &Redacted)
            .field("new_password", &Redacted)
            .finish()
    }
}

/// A freshly issued access/refresh token pair.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthTokens {
    /// Short-lived bearer token for REST and the WebSocket `auth` frame (secret).
    pub access_token: String,
    /// When the access token expires.
    #[serde(with = "time::serde::rfc3339")]
    pub access_expires_at: OffsetDateTime,
    /// Single-use token for [`RefreshRequest`] (secret).
    pub refresh_token: String,
    /// When the refresh token expires.
    #[serde(with = "time::serde::rfc3339")]
    pub refresh_expires_at: OffsetDateTime,
    /// The session these tokens belong to.
    pub session_id: Uuid,
}

impl fmt::Debug for AuthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            access_token: _,
            access_expires_at,
            refresh_token: _,
            refresh_expires_at,
            session_id,
        } = self;
        f.debug_struct("AuthTokens")
            .field("access_token", &Redacted)
            .field("access_expires_at", access_expires_at)
            .field("refresh_token", &Redacted)
            .field("refresh_expires_at", refresh_expires_at)
            .field("session_id", session_id)
            .finish()
    }
}

/// Response to register, login and refresh: the user and their new tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResponse {
    /// The authenticated user.
    pub user: UserView,
    /// The issued tokens.
    pub tokens: AuthTokens,
}

/// Start a widget visitor session.
///
/// Without `identity` the visitor is anonymous (unless the deployment requires
/// host-verified identities: then it fails with
/// [`ErrorCode::IdentityRequired`](super::ErrorCode::IdentityRequired)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitorSessionRequest {
    /// Proof from the host application of who the visitor is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<HostIdentity>,
    /// Name the visitor typed in the widget (ignored when `identity` names one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Email the visitor typed in the widget (ignored when `identity` names one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A host application's assertion of the visitor's identity, tagged by `method`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum HostIdentity {
    /// HMAC-SHA256 over the identity fields with the host's shared secret.
    Hmac {
        /// The visitor's stable id in the host application.
        user_id: String,
        /// The visitor's email, if the host shares it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
        /// The visitor's name, if the host shares it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Lowercase hex HMAC signature (a credential: redacted in `Debug`).
        signature: String,
    },
    /// A JWT signed by the host application.
    Jwt {
        /// The compact JWT (secret).
        token: String,
    },
}

impl fmt::Debug for HostIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostIdentity::Hmac {
                user_id,
                email,
                name,
                signature: _,
            } => f
                .debug_struct("Hmac")
                .field("user_id", user_id)
                .field("email", email)
                .field("name", name)
                .field("signature", &Redacted)
                .finish(),
            HostIdentity::Jwt { token: _ } => {
                f.debug_struct("Jwt").field("token", &Redacted).finish()
            }
        }
    }
}

/// Response to [`VisitorSessionRequest`]: the visitor's token and user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitorSessionResponse {
    /// Bearer token for the widget's REST calls and WebSocket (secret).
    pub visitor_token: String,
    /// When the visitor token expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The visitor's user record.
    pub user: UserView,
}

impl fmt::Debug for VisitorSessionResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            visitor_token: _,
            expires_at,
            user,
        } = self;
        f.debug_struct("VisitorSessionResponse")
            .field("visitor_token", &Redacted)
            .field("expires_at", expires_at)
            .field("user", user)
            .finish()
    }
}

/// An anonymous visitor fills in their name or email from the widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitorProfileRequest {
    /// New display name, if changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New email address, if changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}
