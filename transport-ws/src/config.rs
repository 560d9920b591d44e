//! Gateway limits and timings, with safe defaults.

use std::time::Duration;

/// Everything the gateway enforces. Every limit has a test that crosses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// Time a new connection has to send its `auth` frame.
    pub auth_timeout: Duration,
    /// Largest text frame accepted, in bytes (larger: close `frame_too_large`).
    pub max_frame_bytes: usize,
    /// Sustained request frames per second per connection (token bucket).
    pub frames_per_second: u32,
    /// Burst of request frames allowed above the sustained rate.
    pub frame_burst: u32,
    /// Minimum time between forwarded typing starts per ticket per connection.
    pub typing_interval: Duration,
    /// Tickets one connection may follow at once.
    pub max_subscriptions: usize,
    /// Open connections per user.
    pub max_connections_per_user: usize,
    /// Open connections on this server.
    pub max_connections: usize,
    /// Browser `Origin`s allowed to connect (`None`: any). Connections without
    /// an `Origin` header (non-browser clients) are always allowed.
    pub allowed_origins: Option<Vec<String>>,
    /// Frames queued for a client that does not read before it is cut off
    /// (`slow_consumer`).
    pub outbound_queue: usize,
    /// How long a live event waits for room in a full outbound queue before
    /// the client is cut off as slow (bursts are not slowness).
    pub slow_consumer_grace: Duration,
    /// How often the server pings an idle client.
    pub ping_interval: Duration,
    /// A client silent for this long (no frame, no pong) is dropped.
    pub idle_timeout: Duration,
    /// How long before an access token expires the client is asked to re-auth.
    pub reauth_lead: Duration,
    /// How long after expiry the connection may still re-auth before it is closed.
    pub reauth_grace: Duration,
    /// An agent stays online this long after their last connection closes.
    pub presence_grace: Duration,
    /// Malformed or refused frames tolerated before `protocol_violation`.
    pub max_violations: u32,
    /// Messages replayed per store read when a subscription resumes.
    pub replay_page: u32,
    /// Connections of this server writing a replay page at any one time
    /// when they fell behind (the rest wait their turn), so that catching
    /// up after a burst shares the server with live traffic instead of
    /// queueing it behind every lagging connection's page.
    pub replays_at_once: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            auth_timeout: Duration::from_secs(5),
            max_frame_bytes: 16 * 1024,
            frames_per_second: 20,
            frame_burst: 40,
            typing_interval: Duration::from_secs(2),
            max_subscriptions: 100,
            max_connections_per_user: 20,
            max_connections: 50_000,
            allowed_origins: None,
            outbound_queue: 512,
            slow_consumer_grace: Duration::from_secs(1),
            ping_interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            reauth_lead: Duration::from_secs(60),
            reauth_grace: Duration::from_secs(30),
            presence_grace: Duration::from_secs(30),
            max_violations: 10,
            replay_page: 200,
            replays_at_once: 1,
        }
    }
}

impl GatewayConfig {
    /// Whether a browser `Origin` may connect.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        match (&self.allowed_origins, origin) {
            (None, _) | (_, None) => true,
            (Some(list), Some(o)) => list.iter().any(|a| a.eq_ignore_ascii_case(o)),
        }
    }
}
