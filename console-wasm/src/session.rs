//! The login session: when to refresh the access token, and what is kept
//! in `sessionStorage` (see `docs/CONSOLE.md` for why not `localStorage`).

use neurochat_protocol::v1::{AuthResponse, AuthTokens, UserView};
use serde::{Deserialize, Serialize};

/// The `sessionStorage` key of the stored session.
pub const STORAGE_KEY: &str = "neurochat.console.session";

/// Refresh this long before the access token expires (the gateway's
/// `reauth` warning comes 60 s before; refreshing earlier keeps REST calls
/// from ever meeting an expired token).
pub const REFRESH_AHEAD_MS: f64 = 90_000.0;
/// The shortest delay between refreshes (a server handing out very short
/// tokens must not be hammered).
pub const MIN_DELAY_MS: f64 = 5_000.0;

/// What the console keeps between page loads of one tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    /// The logged-in user.
    pub user: UserView,
    /// The tokens of the last login or refresh.
    pub tokens: AuthTokens,
}

impl From<AuthResponse> for Stored {
    fn from(r: AuthResponse) -> Self {
        Stored {
            user: r.user,
            tokens: r.tokens,
        }
    }
}

/// Milliseconds since the Unix epoch of a token expiry.
pub fn expiry_ms(at: time::OffsetDateTime) -> f64 {
    (at.unix_timestamp_nanos() / 1_000_000) as f64
}

/// How long to wait (ms) before refreshing tokens that expire at
/// `access_expires_ms`, seen at `now_ms`.
pub fn refresh_delay_ms(now_ms: f64, access_expires_ms: f64) -> f64 {
    (access_expires_ms - REFRESH_AHEAD_MS - now_ms).max(MIN_DELAY_MS)
}

/// Whether a stored session can still be refreshed at `now_ms`.
pub fn refreshable(stored: &Stored, now_ms: f64) -> bool {
    expiry_ms(stored.tokens.refresh_expires_at) > now_ms
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    #[test]
    fn refreshes_ahead_of_expiry_but_not_in_a_loop() {
        let now = 1_000_000.0;
        assert_eq!(refresh_delay_ms(now, now + 900_000.0), 810_000.0);
        assert_eq!(refresh_delay_ms(now, now + 60_000.0), MIN_DELAY_MS);
        assert_eq!(refresh_delay_ms(now, now - 1.0), MIN_DELAY_MS);
    }

    #[test]
    fn expiry_in_ms() {
        let at =
            OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(expiry_ms(at), 1_700_000_000_000.0);
    }
}
