//! REST calls (`fetch`) with the access token, refreshed by rotation
//! before it expires and once more on a 401.

use neurochat_protocol::v1::{AuthResponse, ErrorBody, ErrorCode, RefreshRequest};
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use super::dom::{now_ms, sleep, window};
use super::{with, with_ref};
use crate::session::{self, Stored};
use crate::wire;

/// Refresh before a call when the token expires within this long.
const FRESH_MARGIN_MS: f64 = 15_000.0;

fn unavailable(why: &str) -> ErrorBody {
    ErrorBody::new(
        ErrorCode::Unavailable,
        format!("The server cannot be reached ({why})."),
    )
}

/// One request: status and body text.
async fn raw(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Result<(u16, String), ErrorBody> {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(b) = body {
        init.set_body(&wasm_bindgen::JsValue::from_str(b));
    }
    let req = Request::new_with_str_and_init(path, &init).map_err(|_| unavailable("request"))?;
    let h = req.headers();
    let _ = h.set("accept", "application/json");
    if body.is_some() {
        let _ = h.set("content-type", "application/json");
    }
    if let Some(t) = token {
        let _ = h.set("authorization", &format!("Bearer {t}"));
    }
    let resp = JsFuture::from(window().fetch_with_request(&req))
        .await
        .map_err(|_| unavailable("network"))?;
    let resp: Response = resp.dyn_into().map_err(|_| unavailable("response"))?;
    let status = resp.status();
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok((status, text))
}

/// `POST /api/v1/auth/login` (no token) or any call without one.
pub(crate) async fn anonymous<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: &str,
) -> Result<T, ErrorBody> {
    let (status, text) = raw(method, path, None, Some(body)).await?;
    if (200..300).contains(&status) {
        wire::parse(&text).map_err(|e| ErrorBody::new(ErrorCode::Internal, e))
    } else {
        Err(wire::problem(status, &text))
    }
}

/// A call without a token whose 2xx answer has no body to read (`202`,
/// `204`): the password reset request and confirmation.
pub(crate) async fn anonymous_empty(method: &str, path: &str, body: &str) -> Result<(), ErrorBody> {
    let (status, text) = raw(method, path, None, Some(body)).await?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(wire::problem(status, &text))
    }
}

/// Rotates the refresh token (`POST /api/v1/auth/refresh`). One refresh at
/// a time: a second caller waits for the first (two concurrent rotations of
/// one token would look like token theft and end the session).
pub(crate) async fn refresh() -> Result<(), ErrorBody> {
    if with_ref(|a| a.refreshing) {
        while with_ref(|a| a.refreshing) {
            sleep(50.0).await;
        }
        return if with_ref(|a| a.session.is_some()) {
            Ok(())
        } else {
            Err(ErrorBody::new(ErrorCode::Unauthenticated, "Logged out."))
        };
    }
    let Some(token) = with_ref(|a| a.session.as_ref().map(|s| s.tokens.refresh_token.clone()))
    else {
        return Err(ErrorBody::new(ErrorCode::Unauthenticated, "Logged out."));
    };
    with(|a| a.refreshing = true);
    let body = wire::body(&RefreshRequest {
        refresh_token: token,
    });
    let result = anonymous::<AuthResponse>("POST", "/api/v1/auth/refresh", &body).await;
    with(|a| a.refreshing = false);
    match result {
        Ok(r) => {
            super::session_started(Stored::from(r), false);
            Ok(())
        }
        Err(e) => {
            // A network failure keeps the session (the timer tries again);
            // a refusal (expired, revoked, reused) ends it.
            if e.code != ErrorCode::Unavailable {
                super::session_ended(Some(&e.message));
            }
            Err(e)
        }
    }
}

/// A call with the access token; the body text of a 2xx answer.
pub(crate) async fn call(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<String, ErrorBody> {
    let expires = with_ref(|a| {
        a.session
            .as_ref()
            .map(|s| session::expiry_ms(s.tokens.access_expires_at))
    });
    let Some(expires) = expires else {
        return Err(ErrorBody::new(ErrorCode::Unauthenticated, "Logged out."));
    };
    if expires - now_ms() < FRESH_MARGIN_MS {
        refresh().await?;
    }
    for attempt in 0..2 {
        let token = with_ref(|a| a.session.as_ref().map(|s| s.tokens.access_token.clone()));
        let Some(token) = token else {
            return Err(ErrorBody::new(ErrorCode::Unauthenticated, "Logged out."));
        };
        let (status, text) = raw(method, path, Some(&token), body.as_deref()).await?;
        // A 401 `invalid_credentials` (a wrong current password on
        // change-password) is an answer, not an expired token.
        if status == 401
            && attempt == 0
            && wire::problem(status, &text).code != ErrorCode::InvalidCredentials
        {
            refresh().await?;
            continue;
        }
        return if (200..300).contains(&status) {
            Ok(text)
        } else {
            Err(wire::problem(status, &text))
        };
    }
    Err(ErrorBody::new(ErrorCode::Unauthenticated, "Logged out."))
}

/// A call whose 2xx answer is JSON of type `T`.
pub(crate) async fn json<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<T, ErrorBody> {
    let text = call(method, path, body).await?;
    wire::parse(&text).map_err(|e| ErrorBody::new(ErrorCode::Internal, e))
}

/// `GET` of JSON.
pub(crate) async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ErrorBody> {
    json("GET", path, None).await
}
