//! OpenAPI schemas of the `neurochat-protocol` v1 bodies this API uses.
//!
//! The protocol crate is serde-only (it builds for wasm32 and the browser
//! crates share it), so it cannot derive `ToSchema`; these mirrors describe
//! the same JSON. They are never (de)serialised: handlers use the protocol
//! types. A test checks every mirror against the protocol's golden files, so
//! a field added there and forgotten here fails the build's tests.
#![allow(dead_code)]

use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// Stable machine-readable error code (`neurochat_protocol::v1::ErrorCode`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// One or more fields failed validation; `fields` names each one.
    ValidationFailed,
    /// The body could not be parsed (bad JSON, wrong types, wrong method).
    MalformedRequest,
    /// No credentials, or credentials that could not be verified.
    Unauthenticated,
    /// Email or password is wrong.
    InvalidCredentials,
    /// The access token has expired; refresh it.
    TokenExpired,
    /// The token is malformed, tampered with, or signed with an unknown key.
    TokenInvalid,
    /// The session was logged out or revoked.
    SessionRevoked,
    /// A refresh token was presented twice; the session was revoked.
    RefreshTokenReused,
    /// The account is disabled.
    AccountDisabled,
    /// Not allowed.
    Forbidden,
    /// No such resource or route.
    NotFound,
    /// The email address is already registered.
    EmailTaken,
    /// A unique name is already used.
    NameTaken,
    /// Changed concurrently; reload and retry.
    Conflict,
    /// The reset token is unknown, used or expired.
    ResetTokenInvalid,
    /// A host-verified identity is required.
    IdentityRequired,
    /// The host identity did not verify.
    IdentityInvalid,
    /// Another agent claimed the ticket first.
    AlreadyClaimed,
    /// Status change not allowed.
    InvalidTransition,
    /// The ticket is closed.
    TicketClosed,
    /// The category is archived.
    CategoryArchived,
    /// Too many requests; see `Retry-After`.
    RateLimited,
    /// The body exceeds the size limit.
    PayloadTooLarge,
    /// Not supported.
    Unsupported,
    /// Temporarily unavailable (database down, timeout).
    Unavailable,
    /// Internal error; quote `request_id`.
    Internal,
}

/// Why a field was rejected.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorCode {
    /// Missing or empty.
    Required,
    /// Too short.
    TooShort,
    /// Too long.
    TooLong,
    /// Wrong form.
    InvalidFormat,
    /// Characters not allowed.
    InvalidCharacters,
    /// Number out of range.
    OutOfRange,
    /// Not one of the allowed choices.
    InvalidChoice,
}

/// One rejected field.
#[derive(ToSchema)]
pub struct FieldError {
    /// The field's name in the request body.
    pub field: String,
    /// Why it was rejected.
    pub code: FieldErrorCode,
    /// Explanation safe to show to the user.
    pub message: String,
}

/// What a user may do.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Opens tickets (also widget visitors).
    Customer,
    /// Works tickets.
    Agent,
    /// Agent plus administration.
    Admin,
}

/// A user.
#[derive(ToSchema)]
pub struct UserView {
    /// Id.
    pub id: Uuid,
    /// Email; absent for anonymous visitors.
    pub email: Option<String>,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Disabled by an administrator.
    pub disabled: bool,
    /// Identity verified (password registration or host identity).
    pub verified: bool,
    /// Creation time (RFC 3339).
    pub created_at: OffsetDateTime,
}

/// Create a customer account.
#[derive(ToSchema)]
pub struct RegisterRequest {
    /// Login email.
    pub email: String,
    /// 8..=128 characters.
    #[schema(format = Password)]
    pub password: String,
    /// 1..=80 characters.
    pub display_name: String,
}

/// Log in with email and password.
#[derive(ToSchema)]
pub struct LoginRequest {
    /// Login email.
    pub email: String,
    /// Password.
    #[schema(format = Password)]
    pub password: String,
}

/// Rotate a refresh token.
#[derive(ToSchema)]
pub struct RefreshRequest {
    /// The current refresh token (single use).
    pub refresh_token: String,
}

/// Log out (the body may be omitted).
#[derive(ToSchema)]
pub struct LogoutRequest {
    /// The refresh token of the session to end (works after the access token expired).
    pub refresh_token: Option<String>,
}

/// Ask for a password reset mail.
#[derive(ToSchema)]
pub struct PasswordResetRequest {
    /// The account's email.
    pub email: String,
}

/// Set a new password with a reset token.
#[derive(ToSchema)]
pub struct PasswordResetConfirm {
    /// The token from the mail.
    pub token: String,
    /// The new password.
    #[schema(format = Password)]
    pub new_password: String,
}

/// Change the signed-in user's password.
#[derive(ToSchema)]
pub struct ChangePasswordRequest {
    /// Current password.
    #[schema(format = Password)]
    pub old_password: String,
    /// New password.
    #[schema(format = Password)]
    pub new_password: String,
}

/// An access/refresh token pair.
#[derive(ToSchema)]
pub struct AuthTokens {
    /// Bearer token for REST and the WebSocket `auth` frame.
    pub access_token: String,
    /// Expiry of the access token.
    pub access_expires_at: OffsetDateTime,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// Expiry of the refresh token.
    pub refresh_expires_at: OffsetDateTime,
    /// The session.
    pub session_id: Uuid,
}

/// The user and their new tokens.
#[derive(ToSchema)]
pub struct AuthResponse {
    /// The user.
    pub user: UserView,
    /// The tokens.
    pub tokens: AuthTokens,
}

/// The host site's proof of who the visitor is, tagged by `method`.
#[derive(ToSchema)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum HostIdentity {
    /// HMAC-SHA256 of `neurochat-identity-v1\n{user_id}\n{email}\n{name}`.
    Hmac {
        /// The host's user id.
        user_id: String,
        /// Email, if shared.
        email: Option<String>,
        /// Name, if shared.
        name: Option<String>,
        /// Lowercase hex signature.
        signature: String,
    },
    /// An HS256 JWT signed by the host.
    Jwt {
        /// The compact JWT.
        token: String,
    },
}

/// Start a widget visitor session.
#[derive(ToSchema)]
pub struct VisitorSessionRequest {
    /// Host-verified identity; absent for an anonymous visitor.
    pub identity: Option<HostIdentity>,
    /// Name typed in the widget.
    pub display_name: Option<String>,
    /// Email typed in the widget (contact only, never a login).
    pub email: Option<String>,
}

/// A visitor session.
#[derive(ToSchema)]
pub struct VisitorSessionResponse {
    /// Bearer token of the widget (REST and WebSocket).
    pub visitor_token: String,
    /// Its expiry.
    pub expires_at: OffsetDateTime,
    /// The visitor's user.
    pub user: UserView,
}

/// A visitor fills in their name or contact email.
#[derive(ToSchema)]
pub struct VisitorProfileRequest {
    /// New display name.
    pub display_name: Option<String>,
    /// New contact email.
    pub email: Option<String>,
}

/// Health answer.
#[derive(ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}
