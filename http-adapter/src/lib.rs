//! NeuroChat's HTTP adapter: one axum [`Router`] with the REST API v1, the
//! WebSocket upgrade to the real-time gateway, the OpenAPI document and the
//! security middleware, built from a [`Desk`] and an [`HttpConfig`].
//!
//! ```no_run
//! # async fn host(desk: neurochat_core::Desk) -> std::io::Result<()> {
//! use std::net::SocketAddr;
//! let app = axum::Router::new()
//!     .nest("/support", neurochat_http::router(desk, neurochat_http::HttpConfig::default()));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! // Connect info gives rate limits and the audit log the client IP.
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
//! # }
//! ```
//!
//! # Layout
//! - [`router()`] / [`router_with_gateway()`] — the router; [`openapi()`] — its document.
//! - [`config`] — [`HttpConfig`]: body limit, timeout, CORS origins, rate
//!   limits (login, reset, writes per user, ticket creation, widget status),
//!   gateway.
//! - [`error`] — [`ApiError`] and the `application/problem+json` body ([`Problem`]).
//! - `extract` — JSON bodies, the bearer principal, the client IP, rate-limit checks.
//! - `middleware` — request id and span, security headers, timeout, 404/405, CORS.
//! - `ratelimit` — in-memory token buckets keyed by IP or account.
//! - `routes/` — handlers: `auth`, `widget`, `tickets`, `messages`,
//!   `categories`, `users` (admin, agents, data rights), `admin` (metrics,
//!   audit), `health`, `ws`.
//! - [`mod@openapi`] — the document's fixed parts and the protocol body schemas.
//! - [`metrics`] — `GET /metrics` (Prometheus text) and [`MetricsAccess`].

pub mod config;
pub mod error;
mod extract;
pub mod metrics;
mod middleware;
pub mod openapi;
mod ratelimit;
mod routes;
mod state;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use neurochat_core::Desk;
use neurochat_transport_ws::Gateway;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::{ClientIpSource, EndpointLimits, HttpConfig, Quota, RateLimits};
pub use error::{ApiError, Problem};
pub use metrics::MetricsAccess;
pub use middleware::REQUEST_ID_HEADER;

use crate::state::AppState;

/// The API's routes, each registered with its OpenAPI operation.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(routes::auth::register))
        .routes(routes!(routes::auth::login))
        .routes(routes!(routes::auth::refresh))
        .routes(routes!(routes::auth::logout))
        .routes(routes!(routes::auth::password_reset_request))
        .routes(routes!(routes::auth::password_reset_confirm))
        .routes(routes!(routes::auth::change_password))
        .routes(routes!(routes::auth::me))
        .routes(routes!(routes::widget::start_session))
        .routes(routes!(routes::widget::update_profile))
        .routes(routes!(routes::widget::status))
        .routes(routes!(routes::tickets::create, routes::tickets::list))
        .routes(routes!(routes::tickets::get, routes::tickets::update))
        .routes(routes!(routes::tickets::claim))
        .routes(routes!(routes::tickets::assign, routes::tickets::unassign))
        .routes(routes!(routes::messages::history, routes::messages::post))
        .routes(routes!(routes::messages::receipts, routes::messages::mark))
        .routes(routes!(
            routes::categories::list,
            routes::categories::create
        ))
        .routes(routes!(routes::categories::update))
        .routes(routes!(routes::users::list))
        .routes(routes!(routes::users::agents))
        .routes(routes!(routes::users::get))
        .routes(routes!(routes::users::set_role))
        .routes(routes!(routes::users::set_disabled))
        .routes(routes!(routes::users::get_agent, routes::users::set_agent))
        .routes(routes!(routes::users::export))
        .routes(routes!(routes::users::erase))
        .routes(routes!(routes::admin::mine))
        .routes(routes!(routes::admin::team))
        .routes(routes!(routes::admin::audit))
        .routes(routes!(routes::admin::ticket_audit))
        .routes(routes!(routes::health::healthz))
        .routes(routes!(routes::health::readyz))
        .routes(routes!(routes::health::metrics))
        .routes(routes!(routes::ws::upgrade))
        .routes(routes!(openapi::document))
}

/// The OpenAPI 3.1 document of the router (every route, body and error).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api().into_openapi();
    openapi::add_common_errors(&mut doc);
    doc
}

/// The whole HTTP API over `desk`, with a real-time gateway configured by
/// `config.gateway`. Mount it where you like (`Router::nest("/support", …)`).
pub fn router(desk: Desk, config: HttpConfig) -> Router {
    let gateway = Gateway::new(desk, config.gateway.clone());
    router_with_gateway(gateway, config)
}

/// Like [`router()`], over a gateway the host keeps (to call
/// [`Gateway::shutdown`] on exit or read its stats); `config.gateway` is
/// ignored in favour of the gateway's own configuration.
pub fn router_with_gateway(gateway: Arc<Gateway>, config: HttpConfig) -> Router {
    let state = AppState::new(gateway, config);
    let (router, mut doc) = api().split_for_parts();
    openapi::add_common_errors(&mut doc);
    // Serialising a document of plain strings and maps cannot fail.
    let json = serde_json::to_string(&doc).unwrap_or_default();
    let _ = state.0.openapi.set(json);
    let cfg = &state.0.config;
    let mut router = router
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(DefaultBodyLimit::max(cfg.body_limit))
        .layer(axum::middleware::from_fn_with_state(
            cfg.request_timeout,
            middleware::timeout,
        ));
    // Compression sits inside CORS and the headers layers, so their headers
    // land on the compressed response, and outside the timeout, so a slow
    // client reading a compressed body is not counted against the handler.
    router = router.layer(middleware::compression());
    if let Some(cors) = middleware::cors(&cfg.allowed_origins) {
        router = router.layer(cors);
    }
    router
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.0.metrics.clone(),
            middleware::request_id_and_trace,
        ))
        .with_state(state)
}
