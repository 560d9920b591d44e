//! Extractors: JSON bodies whose failures are problem documents, the bearer
//! principal, and the client IP.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use neurochat_core::{Principal, RequestContext};
use neurochat_protocol::v1::{ErrorCode, FieldError, FieldErrorCode};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

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
        // Every authenticated write spends one of the user's write tokens;
        // reads are free (they are paged and bounded already).
        let write = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if write && let Some(l) = &state.0.writes {
            l.check(&principal.user_id().to_string(), Instant::now())
                .map_err(ApiError::rate_limited)?;
        }
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

/// Takes a ticket-creation token from the per-IP bucket and the creating
/// user's bucket; 429 with `Retry-After` otherwise.
pub(crate) fn ticket_create_limit(
    state: &AppState,
    ip: ClientIp,
    principal: &Principal,
) -> Result<(), ApiError> {
    let limiters = &state.0.ticket_create;
    let now = Instant::now();
    if let Some(l) = &limiters.per_ip {
        l.check(&ip.key(), now).map_err(ApiError::rate_limited)?;
    }
    if let Some(l) = &limiters.per_account {
        l.check(&principal.user_id().to_string(), now)
            .map_err(ApiError::rate_limited)?;
    }
    Ok(())
}

/// The `{id}` of a route. An id that is not a UUID names nothing that
/// exists, so it is 404 `not_found` like an unknown one, never a 5xx.
pub(crate) struct Id(pub(crate) Uuid);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::new(ErrorCode::NotFound, "No such resource."))?;
        Uuid::try_parse(&raw)
            .map(Id)
            .map_err(|_| ApiError::new(ErrorCode::NotFound, "No such resource."))
    }
}

/// The query string as decoded pairs, read field by field with [`Params`]
/// so that every bad parameter is named in one 422 `validation_failed`
/// (a repeated key is a list where the protocol says so, e.g. `status`).
pub(crate) struct QueryParams(pub(crate) Params);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::MalformedRequest,
                    "The query string could not be decoded.",
                )
            })?;
        Ok(QueryParams(Params {
            pairs,
            bad: Vec::new(),
        }))
    }
}

/// Decoded query parameters and the violations found so far.
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
    bad: Vec<FieldError>,
}

impl Params {
    fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The last value of `key` (a repeated single-valued key: the last wins).
    fn last(&self, key: &str) -> Option<String> {
        self.values(key).last().map(str::to_owned)
    }

    fn reject(&mut self, field: &str, code: FieldErrorCode, message: &str) {
        self.bad.push(FieldError {
            field: field.to_owned(),
            code,
            message: message.to_owned(),
        });
    }

    /// A free-text parameter.
    pub(crate) fn text(&mut self, key: &str) -> Option<String> {
        self.last(key)
    }

    /// A non-negative integer.
    pub(crate) fn number<T: std::str::FromStr>(&mut self, key: &str) -> Option<T> {
        let raw = self.last(key)?;
        match raw.trim().parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.reject(
                    key,
                    FieldErrorCode::InvalidFormat,
                    "Expected a whole number.",
                );
                None
            }
        }
    }

    /// `true` or `false`.
    pub(crate) fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.last(key)?.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.reject(
                    key,
                    FieldErrorCode::InvalidChoice,
                    "Expected true or false.",
                );
                None
            }
        }
    }

    /// The `cursor` a listing handed out, read back with `decode`.
    pub(crate) fn cursor<T>(&mut self, decode: impl FnOnce(&str) -> Option<T>) -> Option<T> {
        let raw = self.text("cursor")?;
        let decoded = decode(&raw);
        if decoded.is_none() {
            self.invalid(
                "cursor",
                FieldErrorCode::InvalidFormat,
                "Not a cursor this listing handed out.",
            );
        }
        decoded
    }

    /// A UUID.
    pub(crate) fn uuid(&mut self, key: &str) -> Option<Uuid> {
        let raw = self.last(key)?;
        match Uuid::try_parse(raw.trim()) {
            Ok(v) => Some(v),
            Err(_) => {
                self.reject(key, FieldErrorCode::InvalidFormat, "Expected a UUID.");
                None
            }
        }
    }

    /// An RFC 3339 instant. A `+` offset that form decoding turned into a
    /// space is read as the `+` it was.
    pub(crate) fn time(&mut self, key: &str) -> Option<OffsetDateTime> {
        let raw = self.last(key)?;
        let fixed = raw.trim().replace(' ', "+");
        match OffsetDateTime::parse(&fixed, &Rfc3339) {
            Ok(v) => Some(v),
            Err(_) => {
                self.reject(
                    key,
                    FieldErrorCode::InvalidFormat,
                    "Expected an RFC 3339 time, e.g. 2026-01-31T12:00:00Z.",
                );
                None
            }
        }
    }

    /// One value of a protocol enumeration (its snake_case JSON string).
    pub(crate) fn choice<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        let raw = self.last(key)?;
        self.parse_choice(key, raw)
    }

    /// Every value of a repeatable enumeration parameter (`None` if absent).
    pub(crate) fn choices<T: DeserializeOwned>(&mut self, key: &str) -> Option<Vec<T>> {
        let raws: Vec<String> = self.values(key).map(str::to_owned).collect();
        if raws.is_empty() {
            return None;
        }
        Some(
            raws.into_iter()
                .filter_map(|r| self.parse_choice(key, r))
                .collect(),
        )
    }

    fn parse_choice<T: DeserializeOwned>(&mut self, key: &str, raw: String) -> Option<T> {
        match serde_json::from_value(serde_json::Value::String(raw)) {
            Ok(v) => Some(v),
            Err(_) => {
                self.reject(
                    key,
                    FieldErrorCode::InvalidChoice,
                    "Not one of the allowed values.",
                );
                None
            }
        }
    }

    /// Records a violation found by the handler itself (e.g. a bad cursor).
    pub(crate) fn invalid(&mut self, key: &str, code: FieldErrorCode, message: &str) {
        self.reject(key, code, message);
    }

    /// 422 naming every bad parameter, if there was one.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.bad.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.bad))
        }
    }
}
