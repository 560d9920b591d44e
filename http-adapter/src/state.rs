//! What every handler shares: the desk, the gateway, the config and the
//! rate limiters.

use std::sync::Arc;

use neurochat_core::Desk;
use neurochat_transport_ws::Gateway;

use crate::config::{EndpointLimits, HttpConfig};
use crate::metrics::Metrics;
use crate::ratelimit::KeyedLimiter;

/// Per-IP and per-account limiters of one endpoint.
#[derive(Debug)]
pub(crate) struct EndpointLimiters {
    pub(crate) per_ip: Option<KeyedLimiter>,
    pub(crate) per_account: Option<KeyedLimiter>,
}

impl EndpointLimiters {
    fn new(limits: EndpointLimits, max_keys: usize) -> Self {
        EndpointLimiters {
            per_ip: limits.per_ip.map(|q| KeyedLimiter::new(q, max_keys)),
            per_account: limits.per_account.map(|q| KeyedLimiter::new(q, max_keys)),
        }
    }
}

/// The router's state (cheap to clone).
#[derive(Clone)]
pub(crate) struct AppState(pub(crate) Arc<Shared>);

pub(crate) struct Shared {
    pub(crate) desk: Desk,
    pub(crate) gateway: Arc<Gateway>,
    pub(crate) config: HttpConfig,
    pub(crate) login: EndpointLimiters,
    pub(crate) reset: EndpointLimiters,
    /// Authenticated writes, per user.
    pub(crate) writes: Option<KeyedLimiter>,
    /// Ticket creation, per IP and per user.
    pub(crate) ticket_create: EndpointLimiters,
    /// The widget's status, per IP.
    pub(crate) widget_status: EndpointLimiters,
    /// The widget status's last `reply_within_seconds` and when it was
    /// computed. An async lock, held while computing, so a burst of page
    /// views after it expires reads the tickets once.
    pub(crate) reply_within: tokio::sync::Mutex<Option<(std::time::Instant, Option<u64>)>>,
    /// The OpenAPI document as JSON, set once the router is assembled.
    pub(crate) openapi: std::sync::OnceLock<String>,
    /// What `GET /metrics` reports; recorded into by the outermost layer.
    pub(crate) metrics: Arc<Metrics>,
}

impl AppState {
    pub(crate) fn new(gateway: Arc<Gateway>, config: HttpConfig) -> Self {
        let max = config.rate_limits.max_tracked_keys;
        let metrics = Arc::new(Metrics::default());
        metrics.watch_escalations(gateway.desk());
        AppState(Arc::new(Shared {
            desk: gateway.desk().clone(),
            login: EndpointLimiters::new(config.rate_limits.login, max),
            reset: EndpointLimiters::new(config.rate_limits.password_reset, max),
            writes: config.rate_limits.writes.map(|q| KeyedLimiter::new(q, max)),
            ticket_create: EndpointLimiters::new(config.rate_limits.ticket_create, max),
            widget_status: EndpointLimiters::new(
                EndpointLimits {
                    per_ip: config.rate_limits.widget_status,
                    per_account: None,
                },
                max,
            ),
            reply_within: tokio::sync::Mutex::new(None),
            gateway,
            config,
            openapi: std::sync::OnceLock::new(),
            metrics,
        }))
    }

    pub(crate) fn desk(&self) -> &Desk {
        &self.0.desk
    }
}
