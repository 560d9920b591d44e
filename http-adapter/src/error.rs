//! Errors as `application/problem+json` (RFC 9457).
//!
//! The body is a problem document that is also a superset of the protocol's
//! `ErrorBody` (`code`, `message`, `fields`), so clients that already parse
//! WebSocket errors parse REST errors the same way. 5xx bodies carry a
//! generic message and the request id; the cause chain goes to the log only.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use neurochat_protocol::v1::{ErrorBody, ErrorCode, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error response.
pub const PROBLEM_JSON: &str = "application/problem+json";

tokio::task_local! {
    /// The current request's id, set by the request-id middleware so error
    /// bodies can carry it without threading it through every handler.
    pub(crate) static REQUEST_ID: String;
}

/// An RFC 9457 problem document with NeuroChat's stable error code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:neurochat:problem:<code>`: identifies the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the HTTP status (e.g. "Unprocessable Content").
    pub title: String,
    /// The HTTP status code, repeated.
    pub status: u16,
    /// Human-readable explanation, safe to show; never internal details.
    pub detail: String,
    /// The stable machine-readable code; clients branch on this.
    #[schema(value_type = crate::openapi::schemas::ErrorCode)]
    pub code: ErrorCode,
    /// Same as `detail` (the protocol's `ErrorBody.message`).
    pub message: String,
    /// For `validation_failed`: every rejected field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<crate::openapi::schemas::FieldError>>)]
    pub fields: Option<Vec<FieldError>>,
    /// The request id (also the `x-request-id` response header); quote it
    /// when reporting a 5xx: the server log has the cause under it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The HTTP status of each stable error code.
pub fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::MalformedRequest | ErrorCode::ResetTokenInvalid => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthenticated
        | ErrorCode::InvalidCredentials
        | ErrorCode::TokenExpired
        | ErrorCode::TokenInvalid
        | ErrorCode::SessionRevoked
        | ErrorCode::RefreshTokenReused
        | ErrorCode::IdentityInvalid => StatusCode::UNAUTHORIZED,
        ErrorCode::AccountDisabled | ErrorCode::Forbidden | ErrorCode::IdentityRequired => {
            StatusCode::FORBIDDEN
        }
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::EmailTaken
        | ErrorCode::NameTaken
        | ErrorCode::Conflict
        | ErrorCode::AlreadyClaimed
        | ErrorCode::InvalidTransition
        | ErrorCode::TicketClosed
        | ErrorCode::CategoryArchived => StatusCode::CONFLICT,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A failed request: status, safe body, and (for 5xx) the cause to log.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    retry_after: Option<Duration>,
    cause: Option<neurochat_core::Error>,
}

impl ApiError {
    /// An error with a code and a safe message; the status follows the code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: status_for(code),
            body: ErrorBody::new(code, message),
            retry_after: None,
            cause: None,
        }
    }

    /// Overrides the status (e.g. 405 or 415, which have no code of their own).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// 429 `rate_limited` with `Retry-After`.
    pub fn rate_limited(retry_after: Duration) -> Self {
        let mut e = ApiError::new(
            ErrorCode::RateLimited,
            "Too many attempts; try again later.",
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// 401 `unauthenticated`: no usable bearer credentials.
    pub fn unauthenticated() -> Self {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "Authentication required: send `Authorization: Bearer <token>`.",
        )
    }

    /// 422 `validation_failed` naming every rejected field (query
    /// parameters and the like, which core never sees as such).
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let mut e = ApiError::new(ErrorCode::ValidationFailed, "Some fields are invalid.");
        e.body.fields = Some(fields);
        e
    }

    /// 404 `not_found` for a kind of resource (`ticket`, `user`, …).
    pub fn not_found(what: &str) -> Self {
        ApiError::new(ErrorCode::NotFound, format!("{what} not found."))
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.body.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<neurochat_core::Error> for ApiError {
    fn from(e: neurochat_core::Error) -> Self {
        let body = e.to_body();
        ApiError {
            status: status_for(body.code),
            body,
            retry_after: None,
            cause: e.is_internal().then_some(e),
        }
    }
}

/// The error and its sources, one line (for the log only).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = REQUEST_ID.try_with(Clone::clone).ok();
        if self.status.is_server_error() {
            let cause = self
                .cause
                .as_ref()
                .map(|c| chain(c))
                .unwrap_or_else(|| self.body.message.clone());
            tracing::error!(
                request_id = request_id.as_deref().unwrap_or("-"),
                code = %self.body.code,
                cause = %cause,
                "request failed"
            );
        }
        let problem = Problem {
            problem_type: format!("urn:neurochat:problem:{}", self.body.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.body.message.clone(),
            code: self.body.code,
            message: self.body.message,
            fields: self.body.fields,
            request_id,
        };
        let json = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
        let mut resp = (self.status, json).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(wait) = self.retry_after {
            // Whole seconds, rounded up, never 0 (a client would retry at once).
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn internal_causes_stay_out_of_the_body() {
        let cause = neurochat_core::Error::Internal("disk /var/db/secret.db on fire".into());
        let resp = REQUEST_ID
            .scope("req-1".to_owned(), async {
                ApiError::from(cause).into_response()
            })
            .await;
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["code"], "internal");
        assert_eq!(body["detail"], "Internal error.");
        assert_eq!(body["request_id"], "req-1");
        assert!(!String::from_utf8_lossy(&bytes).contains("secret"));
    }

    #[test]
    fn every_code_has_a_4xx_or_5xx_status() {
        for code in ErrorCode::ALL {
            let s = status_for(*code);
            assert!(s.is_client_error() || s.is_server_error(), "{code}");
            let internal = matches!(code, ErrorCode::Internal | ErrorCode::Unavailable);
            assert_eq!(s.is_server_error(), internal, "{code}");
        }
    }
}
