//! The service error type: every failure a caller of [`Desk`](crate::Desk)
//! can see, each with a stable [`ErrorCode`] and a message safe to show.

use neurochat_protocol::v1::{ErrorBody, ErrorCode, FieldError, FieldErrorCode};

use crate::ports::{BusError, StoreError};

/// A rejected field: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field's name as in the request body (`email`, `display_name`, ...).
    pub field: &'static str,
    /// Why.
    pub code: FieldErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: &'static str, code: FieldErrorCode, message: impl Into<String>) -> Self {
        FieldViolation {
            field,
            code,
            message: message.into(),
        }
    }
}

/// Everything that can go wrong in a service call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input failed validation; every bad field is listed. Nothing was written.
    #[error("validation failed")]
    Validation(Vec<FieldViolation>),
    /// Authentication failed; the code says how (`invalid_credentials`,
    /// `token_expired`, `session_revoked`, `refresh_token_reused`, ...).
    #[error("authentication failed: {0}")]
    Auth(ErrorCode),
    /// The principal may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The thing does not exist or is not visible to the principal.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A domain rule was broken (`email_taken`, `name_taken`, `conflict`,
    /// `already_claimed`, `invalid_transition`, ...); `message` is safe to show.
    #[error("{message}")]
    Rule {
        /// Stable code.
        code: ErrorCode,
        /// Safe message.
        message: String,
    },
    /// The configuration given to the builder is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Storage failed; the cause is logged, clients see `internal`.
    #[error("storage failure")]
    Store(#[from] StoreError),
    /// The event bus failed.
    #[error("event bus failure")]
    Bus(#[from] BusError),
    /// Any other internal failure (hashing, task join).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result alias for service calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A rule violation with a code and a safe message.
    pub fn rule(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Rule {
            code,
            message: message.into(),
        }
    }

    /// A single-field validation error.
    pub fn field(field: &'static str, code: FieldErrorCode, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldViolation::new(field, code, message)])
    }

    /// The stable code clients see.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Validation(_) => ErrorCode::ValidationFailed,
            Error::Auth(code) => *code,
            Error::Forbidden => ErrorCode::Forbidden,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Rule { code, .. } => *code,
            Error::Store(StoreError::Conflict) => ErrorCode::Conflict,
            Error::Config(_) | Error::Store(_) | Error::Internal(_) => ErrorCode::Internal,
            Error::Bus(_) => ErrorCode::Unavailable,
        }
    }

    /// True for failures the client did not cause (log them with their cause).
    pub fn is_internal(&self) -> bool {
        matches!(self.code(), ErrorCode::Internal | ErrorCode::Unavailable)
    }

    /// The wire body: stable code, safe message, fields for validation errors.
    /// Internal causes never leave the process through this.
    pub fn to_body(&self) -> ErrorBody {
        let message = match self {
            Error::Validation(_) => "Some fields are invalid.".to_owned(),
            Error::Auth(code) => auth_message(*code).to_owned(),
            Error::Forbidden => "You are not allowed to do that.".to_owned(),
            Error::NotFound(what) => format!("{what} not found."),
            Error::Rule { message, .. } => message.clone(),
            Error::Store(StoreError::Conflict) => {
                "The resource changed meanwhile; reload and try again.".to_owned()
            }
            Error::Bus(_) => "The service is temporarily unavailable.".to_owned(),
            Error::Config(_) | Error::Store(_) | Error::Internal(_) => "Internal error.".to_owned(),
        };
        let fields = match self {
            Error::Validation(v) => Some(
                v.iter()
                    .map(|f| FieldError {
                        field: f.field.to_owned(),
                        code: f.code,
                        message: f.message.clone(),
                    })
                    .collect(),
            ),
            _ => None,
        };
        ErrorBody {
            code: self.code(),
            message,
            fields,
        }
    }

    /// The violations of a validation error (empty otherwise).
    pub fn violations(&self) -> &[FieldViolation] {
        match self {
            Error::Validation(v) => v,
            _ => &[],
        }
    }
}

fn auth_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidCredentials => "Email or password is incorrect.",
        ErrorCode::TokenExpired => "The access token has expired.",
        ErrorCode::TokenInvalid => "The token is invalid.",
        ErrorCode::SessionRevoked => "The session has ended; please log in again.",
        ErrorCode::RefreshTokenReused => {
            "This refresh token was already used; the session was ended for safety."
        }
        ErrorCode::AccountDisabled => "This account is disabled.",
        ErrorCode::ResetTokenInvalid => "The reset link is invalid or has expired.",
        ErrorCode::IdentityRequired => "A verified identity is required.",
        ErrorCode::IdentityInvalid => "The identity could not be verified.",
        _ => "Authentication required.",
    }
}
