//! The error body every REST response and WebSocket `error` frame carries.
//!
//! `ErrorCode` is part of the public contract: variants are only ever added,
//! never renamed or removed, and each serialises as a stable snake_case string.

use serde::{Deserialize, Serialize};

/// A machine-readable error code. Clients branch on this, never on `message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// One or more fields failed validation; `fields` names each one.
    ValidationFailed,
    /// The request body or frame could not be parsed (bad JSON, wrong types).
    MalformedRequest,
    /// No credentials, or credentials that could not be verified.
    Unauthenticated,
    /// Email or password is wrong (deliberately does not say which).
    InvalidCredentials,
    /// The access token has expired; refresh it.
    TokenExpired,
    /// The token is malformed, tampered with, or signed with an unknown key.
    TokenInvalid,
    /// The session was logged out or revoked; log in again.
    SessionRevoked,
    /// A refresh token was presented twice; the whole session was revoked.
    RefreshTokenReused,
    /// The account is disabled by an administrator.
    AccountDisabled,
    /// The principal may not perform this operation.
    Forbidden,
    /// The resource does not exist (or is not visible to the principal).
    NotFound,
    /// The email address is already registered.
    EmailTaken,
    /// A name that must be unique is already used (e.g. a category name).
    NameTaken,
    /// The resource changed concurrently; reload and retry.
    Conflict,
    /// The password reset token is unknown, used or expired.
    ResetTokenInvalid,
    /// The widget requires a host-verified identity and none was given.
    IdentityRequired,
    /// The host identity signature or token did not verify.
    IdentityInvalid,
    /// Another agent claimed the ticket first.
    AlreadyClaimed,
    /// The ticket status change is not allowed from its current status.
    InvalidTransition,
    /// The ticket is closed and read-only.
    TicketClosed,
    /// The category is archived and cannot be chosen for new tickets.
    CategoryArchived,
    /// Too many requests; retry after the indicated delay.
    RateLimited,
    /// The request body or frame exceeds the size limit.
    PayloadTooLarge,
    /// The protocol version or frame type is not supported.
    Unsupported,
    /// A dependency (e.g. the database) is temporarily unavailable.
    Unavailable,
    /// An internal error; the server log has the cause under the request id.
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order (used by docs and exhaustive tests).
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::ValidationFailed,
        ErrorCode::MalformedRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidCredentials,
        ErrorCode::TokenExpired,
        ErrorCode::TokenInvalid,
        ErrorCode::SessionRevoked,
        ErrorCode::RefreshTokenReused,
        ErrorCode::AccountDisabled,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::EmailTaken,
        ErrorCode::NameTaken,
        ErrorCode::Conflict,
        ErrorCode::ResetTokenInvalid,
        ErrorCode::IdentityRequired,
        ErrorCode::IdentityInvalid,
        ErrorCode::AlreadyClaimed,
        ErrorCode::InvalidTransition,
        ErrorCode::TicketClosed,
        ErrorCode::CategoryArchived,
        ErrorCode::RateLimited,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Unsupported,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    /// The stable snake_case string of this code (same as its JSON form).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::TokenInvalid => "token_invalid",
            ErrorCode::SessionRevoked => "session_revoked",
            ErrorCode::RefreshTokenReused => "refresh_token_reused",
            ErrorCode::AccountDisabled => "account_disabled",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::NameTaken => "name_taken",
            ErrorCode::Conflict => "conflict",
            ErrorCode::ResetTokenInvalid => "reset_token_invalid",
            ErrorCode::IdentityRequired => "identity_required",
            ErrorCode::IdentityInvalid => "identity_invalid",
            ErrorCode::AlreadyClaimed => "already_claimed",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::TicketClosed => "ticket_closed",
            ErrorCode::CategoryArchived => "category_archived",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a single field was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorCode {
    /// The field is missing or empty.
    Required,
    /// Shorter than the minimum length.
    TooShort,
    /// Longer than the maximum length.
    TooLong,
    /// Not of the expected form (e.g. not an email address).
    InvalidFormat,
    /// Contains characters that are not allowed (e.g. control characters).
    InvalidCharacters,
    /// A number outside its allowed range.
    OutOfRange,
    /// The value is not one of the allowed choices.
    InvalidChoice,
}

/// One rejected field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name as it appears in the request body (e.g. `display_name`).
    pub field: String,
    /// Why it was rejected.
    pub code: FieldErrorCode,
    /// A human-readable explanation, safe to show to the user.
    pub message: String,
}

/// The body of every error: a stable code, a safe message and, for validation
/// errors, the fields at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// Human-readable message; never contains internal details.
    pub message: String,
    /// The rejected fields, present only for `validation_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldError>>,
}

impl ErrorBody {
    /// An error with the given code and message and no field errors.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: None,
        }
    }

    /// A `validation_failed` error listing the rejected fields.
    pub fn validation(message: impl Into<String>, fields: Vec<FieldError>) -> Self {
        Self {
            code: ErrorCode::ValidationFailed,
            message: message.into(),
            fields: Some(fields),
        }
    }
}

impl FieldError {
    /// A rejected field with its code and a user-facing explanation.
    pub fn new(field: impl Into<String>, code: FieldErrorCode, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}
