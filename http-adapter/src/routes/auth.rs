//! `/api/v1/auth/*`: registration, login, token refresh, logout, password
//! reset and change, and the signed-in user.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use neurochat_core::service::auth::Registration;
use neurochat_protocol::v1::{
    AuthResponse, ChangePasswordRequest, LoginRequest, LogoutRequest, PasswordResetConfirm,
    PasswordResetRequest, RefreshRequest, RegisterRequest, UserView,
};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Auth, ClientIp, OptionalJson, bearer_token, rate_limit};
use crate::openapi::schemas;
use crate::state::AppState;

/// Creates a customer account with a password and logs it in.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth",
    request_body = schemas::RegisterRequest,
    responses(
        (status = 201, description = "Registered and logged in.", body = schemas::AuthResponse),
        (status = 409, description = "`email_taken`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `email`, `password`, `display_name`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn register(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<AuthResponse>), ApiError> {
    let RegisterRequest {
        email,
        password,
        display_name,
    } = body;
    let registration = Registration {
        email,
        password,
        display_name,
    };
    let session = state.desk().register(registration, &ip.ctx()).await?;
    Ok((StatusCode::CREATED, Json((&session).into())))
}

/// Logs in with email and password. Rate limited per client IP and per
/// account.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = schemas::LoginRequest,
    responses(
        (status = 200, description = "Logged in.", body = schemas::AuthResponse),
        (status = 401, description = "`invalid_credentials` (unknown email and wrong password alike).", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `email`, `password`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`; see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ),
)]
pub(crate) async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<AuthResponse>, ApiError> {
    rate_limit(&state.0.login, ip, Some(&body.email))?;
    let session = state
        .desk()
        .login(&body.email, &body.password, &ip.ctx())
        .await?;
    Ok(Json((&session).into()))
}

/// Exchanges a refresh token (single use) for a new token pair.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = schemas::RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the presented refresh token is spent.", body = schemas::AuthResponse),
        (status = 401, description = "`token_invalid`, `token_expired`, `session_revoked`, or `refresh_token_reused` (the whole session was revoked).", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn refresh(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<AuthResponse>, ApiError> {
    let session = state.desk().refresh(&body.refresh_token, &ip.ctx()).await?;
    Ok(Json((&session).into()))
}

/// Ends the session of the bearer access token and/or of the refresh token in
/// the body (the body may be omitted). Ending an already ended session is
/// not an error.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    request_body(content = Option<schemas::LogoutRequest>, description = "Optional: `{\"refresh_token\": …}` ends that token's session even when the access token has expired."),
    security((), ("bearer" = [])),
    responses(
        (status = 204, description = "The session is ended."),
        (status = 401, description = "Neither a valid bearer token nor a refresh token was given.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<LogoutRequest>,
) -> Result<StatusCode, ApiError> {
    let desk = state.desk();
    let ctx = ip.ctx();
    let refresh_token = body.and_then(|b| b.refresh_token);
    if let Some(refresh_token) = &refresh_token {
        // Core ends sessions by principal; a refresh token becomes one by
        // being rotated (which spends it), and a spent or reused token has
        // already ended its session inside `refresh`.
        match desk.refresh(refresh_token, &ctx).await {
            Ok(session) => {
                let principal = desk.authenticate(&session.tokens.access_token).await?;
                desk.logout(&principal, &ctx).await?;
            }
            Err(e) if e.is_internal() => return Err(e.into()),
            Err(_) => {}
        }
    }
    match bearer_token(&headers) {
        Some(token) => match desk.authenticate_bearer(token).await {
            Ok(principal) => desk.logout(&principal, &ctx).await?,
            Err(e) if e.is_internal() => return Err(e.into()),
            Err(e) if refresh_token.is_none() => return Err(e.into()),
            Err(_) => {}
        },
        None if refresh_token.is_none() => return Err(ApiError::unauthenticated()),
        None => {}
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Mails a single-use password reset token if the email belongs to an
/// account. Answers the same either way (it does not reveal accounts).
/// Rate limited per client IP and per email.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = schemas::PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted (whether or not the account exists)."),
        (status = 422, description = "`validation_failed`: `email`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`; see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ),
)]
pub(crate) async fn password_reset_request(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<StatusCode, ApiError> {
    rate_limit(&state.0.reset, ip, Some(&body.email))?;
    state
        .desk()
        .request_password_reset(&body.email, &ip.ctx())
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with a reset token; every session of the account
/// ends. Rate limited per client IP.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset/confirm", tag = "auth",
    request_body = schemas::PasswordResetConfirm,
    responses(
        (status = 204, description = "Password set; log in again."),
        (status = 400, description = "`reset_token_invalid` (unknown, used or expired).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `new_password`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`; see `Retry-After`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ),
)]
pub(crate) async fn password_reset_confirm(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<PasswordResetConfirm>,
) -> Result<StatusCode, ApiError> {
    rate_limit(&state.0.reset, ip, None)?;
    state
        .desk()
        .confirm_password_reset(&body.token, &body.new_password, &ip.ctx())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the signed-in user's password; their other sessions end.
#[utoipa::path(
    post, path = "/api/v1/auth/change-password", tag = "auth",
    request_body = schemas::ChangePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed; this session stays, the others end."),
        (status = 401, description = "Not signed in, or `invalid_credentials`: the current password is wrong.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `old_password`, `new_password`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .desk()
        .change_password(
            &principal,
            &body.old_password,
            &body.new_password,
            &ip.ctx(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user (or widget visitor).
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller.", body = schemas::UserView),
        (status = 401, description = "Not signed in.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn me(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> Result<Json<UserView>, ApiError> {
    let user = state
        .desk()
        .get_user(&principal, principal.user_id())
        .await?;
    Ok(Json((&user).into()))
}
