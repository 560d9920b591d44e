//! Settings of the HTTP layer, with safe defaults.

use std::time::Duration;

use neurochat_transport_ws::GatewayConfig;

use crate::metrics::MetricsAccess;

/// A token bucket: `burst` requests at once, then one more every `refill`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests allowed in a burst (the bucket's size); at least 1.
    pub burst: u32,
    /// Time to earn back one request.
    pub refill: Duration,
}

impl Quota {
    /// `burst` requests, then one every `refill`.
    pub const fn new(burst: u32, refill: Duration) -> Self {
        Quota { burst, refill }
    }
}

/// Rate limits of one sensitive endpoint, keyed by client IP and by account
/// (the normalised email in the body). `None` turns that key's limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointLimits {
    /// Per client IP address.
    pub per_ip: Option<Quota>,
    /// Per account (normalised email).
    pub per_account: Option<Quota>,
}

/// Rate limits of the endpoints that are worth brute-forcing or spamming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /api/v1/auth/login`.
    pub login: EndpointLimits,
    /// `POST /api/v1/auth/password-reset` and `.../confirm` (per account
    /// applies to the request only: the confirmation names no account).
    pub password_reset: EndpointLimits,
    /// Every authenticated write (a `POST`, `PUT`, `PATCH` or `DELETE` with a
    /// bearer token), per user: keeps one account or visitor from flooding
    /// the store.
    pub writes: Option<Quota>,
    /// `POST /api/v1/tickets` (ticket spam): per client IP, and per
    /// customer or visitor (`per_account` is keyed by user id here). The
    /// per-IP limit is what stops a script that opens a fresh anonymous
    /// visitor session for every ticket.
    pub ticket_create: EndpointLimits,
    /// `GET /api/v1/widget/status` (public, read on every page view of a
    /// host site), per client IP.
    pub widget_status: Option<Quota>,
    /// Entries kept per limiter before idle ones are evicted (bounds memory
    /// under a flood of distinct keys).
    pub max_tracked_keys: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            // A person mistyping a password a few times never notices; a
            // guesser gets about one try every 6 s per account.
            login: EndpointLimits {
                per_ip: Some(Quota::new(20, Duration::from_secs(3))),
                per_account: Some(Quota::new(5, Duration::from_secs(6))),
            },
            password_reset: EndpointLimits {
                per_ip: Some(Quota::new(10, Duration::from_secs(30))),
                per_account: Some(Quota::new(3, Duration::from_secs(300))),
            },
            // Two writes a second sustained, 120 at once: far above a person
            // typing and clicking, far below a script.
            writes: Some(Quota::new(120, Duration::from_millis(500))),
            // A customer rarely opens more than a few tickets; an office
            // behind one NAT address opens more, but not one every 10 s.
            ticket_create: EndpointLimits {
                per_ip: Some(Quota::new(30, Duration::from_secs(10))),
                per_account: Some(Quota::new(5, Duration::from_secs(60))),
            },
            // Page views of a busy office behind one address, not a poller.
            widget_status: Some(Quota::new(60, Duration::from_secs(1))),
            max_tracked_keys: 100_000,
        }
    }
}

/// Where the client IP for rate limits and the audit log comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientIpSource {
    /// The TCP peer address (`ConnectInfo<SocketAddr>`; serve the router with
    /// `into_make_service_with_connect_info::<SocketAddr>()`). Requests
    /// without it share one "unknown" bucket.
    #[default]
    Peer,
    /// The last address in `X-Forwarded-For`, as appended by a trusted reverse
    /// proxy in front of the server; falls back to the peer address. Only
    /// safe when every request passes through that proxy.
    LastForwardedFor,
}

/// Everything the HTTP layer enforces. `HttpConfig::default()` is safe to
/// expose; widen it deliberately.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes (larger: 413).
    pub body_limit: usize,
    /// Longest a request may take before it is answered 503 `unavailable`.
    pub request_timeout: Duration,
    /// Browser origins (e.g. `https://shop.example.com`) allowed to call the
    /// REST API cross-origin (the widget's host sites). Empty: no CORS
    /// headers at all, so browsers allow same-origin calls only.
    pub allowed_origins: Vec<String>,
    /// Rate limits of login and password reset.
    pub rate_limits: RateLimits,
    /// Where the client IP comes from.
    pub client_ip: ClientIpSource,
    /// The real-time gateway behind `GET /ws` (its own `allowed_origins` is
    /// the WebSocket `Origin` allow-list).
    pub gateway: GatewayConfig,
    /// Who may read `GET /metrics` (Prometheus text). Off by default (404):
    /// see [`MetricsAccess`] for why and how to open it.
    pub metrics: MetricsAccess,
    /// How long `GET /api/v1/widget/status` reuses its `reply_within_seconds`
    /// (the median first response of the last 7 days, which reads that
    /// week's tickets). `agents_online` is always current.
    pub reply_within_cache: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            allowed_origins: Vec::new(),
            rate_limits: RateLimits::default(),
            client_ip: ClientIpSource::Peer,
            gateway: GatewayConfig::default(),
            metrics: MetricsAccess::Off,
            reply_within_cache: Duration::from_secs(300),
        }
    }
}
