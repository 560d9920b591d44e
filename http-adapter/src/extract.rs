//! Extractors: JSON bodies whose failures are problem documents, the bearer
//! principal, and the client IP.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use neurochat_core::{Principal, RequestContext};
use neurochat_protocol::v1::ErrorCode;
use serde::de::DeserializeOwned;

use crate::config::ClientIpSource;
use crate::error::ApiError;
use crate::state::{AppState, EndpointLimiters};

/// A JSON request body. Bad JSON is 400 `malformed_request`, a body over the
/// limit 413 `payload_too_large`, a missing `Content-Type: application/json`
/// 415 (which also keeps cross-site HTML forms from posting to the API).
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(ErrorCode::PayloadTooLarge, "The request body is too large.");
    }
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::MalformedRequest,
            "Expected a JSON body with `Content-Type: application/json`.",
        )
        .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        // The parser's message names the offending field and position; it
        // may quote the client's own input, so it goes back to the client
        // but never to the log.
        JsonRejection::JsonDataError(e) => ApiError::new(
            ErrorCode::MalformedRequest,
            format!(
                "The JSON body does not match the expected shape: {}",
                e.body_text()
            ),
        ),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::new(ErrorCode::MalformedRequest, "The body is not valid JSON.")
        }
        _ => ApiError::new(ErrorCode::MalformedRequest, "The body could not be read."),
    }
}

/// A JSON body that may be absent altogether (no body, no content type).
pub(crate) struct OptionalJson<T>(pub(crate) Option<T>);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let headers = req.headers();
        let empty = !headers.contains_key(header::CONTENT_TYPE)
            && headers
                .get(header::CONTENT_LENGTH)
                .is_none_or(|v| v.as_bytes() == b"0")
            && !headers.contains_key(header::TRANSFER_ENCODING);
        if empty {
            return Ok(OptionalJson(None));
        }
        let ApiJson(v) = ApiJson::<T>::from_request(req, state).await?;
        Ok(OptionalJson(Some(v)))
    }
}

/// The authenticated caller, from `Authorization: Bearer <token>` (an access
/// JWT or a widget visitor token), checked by the desk on every request.
pub(crate) struct Auth(pub(crate) Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let principal = state.desk().authenticate_bearer(token).await?;
        Ok(Auth(principal))
    }
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
}

/// The client's IP address as configured ([`ClientIpSource`]); `None` when
/// the server was not started with connect info and no proxy header applies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub(crate) Option<IpAddr>);

impl ClientIp {
    /// The audit context of this request.
    pub(crate) fn ctx(self) -> RequestContext {
        match self.0 {
            Some(ip) => RequestContext::from_ip(ip.to_string()),
            None => RequestContext::default(),
        }
    }

    /// The rate-limit key of this client.
    fn key(self) -> String {
        self.0
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let ip = match state.0.config.client_ip {
            ClientIpSource::Peer => peer,
            ClientIpSource::LastForwardedFor => parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .next_back()
                .or(peer),
        };
        Ok(ClientIp(ip))
    }
}

/// Takes a token from the endpoint's per-IP bucket and, when an account is
/// named, from its per-account bucket; 429 with `Retry-After` otherwise.
pub(crate) fn rate_limit(
    limiters: &EndpointLimiters,
    ip: ClientIp,
    account: Option<&str>,
) -> Result<(), ApiError> {
    let now = Instant::now();
    if let Some(l) = &limiters.per_ip {
        l.check(&ip.key(), now).map_err(ApiError::rate_limited)?;
    }
    if let (Some(l), Some(account)) = (&limiters.per_account, account) {
        let key = account.trim().to_lowercase();
        if !key.is_empty() {
            l.check(&key, now).map_err(ApiError::rate_limited)?;
        }
    }
    Ok(())
}
