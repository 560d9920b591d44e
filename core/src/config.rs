//! Configuration, passed to [`DeskBuilder`](crate::DeskBuilder) as a value.
//! Libraries never read the environment; binaries build a `Config`.

use std::fmt;
use time::Duration;

/// A secret byte string whose `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps secret bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    /// The secret bytes; handle with care.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One HS256 signing key with its id (`kid` in the JWT header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Key id, written into each token's header.
    pub kid: String,
    /// At least 32 bytes.
    pub secret: Secret,
}

/// Access and refresh token settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// `iss` written and required.
    pub issuer: String,
    /// `aud` written and required.
    pub audience: String,
    /// Lifetime of access tokens (default 15 min).
    pub access_ttl: Duration,
    /// Lifetime of each refresh token (default 30 days); rotation issues a fresh one.
    pub refresh_ttl: Duration,
    /// Hard cap on a login session, however often it refreshes (default 90 days).
    pub session_max_age: Duration,
    /// The key new tokens are signed with.
    pub current_key: SigningKey,
    /// Earlier keys still accepted for verification during a rotation.
    pub previous_keys: Vec<SigningKey>,
    /// Clock skew tolerated on `exp`/`nbf`, in seconds (default 0: tests rely on exact expiry).
    pub leeway_secs: u64,
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashing {
    /// Memory in KiB (OWASP: 19456 = 19 MiB).
    pub m_cost_kib: u32,
    /// Iterations (OWASP: 2).
    pub t_cost: u32,
    /// Parallelism (OWASP: 1).
    pub p_cost: u32,
}

impl PasswordHashing {
    /// The OWASP-recommended argon2id parameters (19 MiB, t=2, p=1). The default.
    pub const OWASP: PasswordHashing = PasswordHashing {
        m_cost_kib: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };

    /// Cheap parameters for test suites only (never for production data).
    pub const INSECURE_FAST_FOR_TESTS: PasswordHashing = PasswordHashing {
        m_cost_kib: 256,
        t_cost: 1,
        p_cost: 1,
    };
}

impl Default for PasswordHashing {
    fn default() -> Self {
        PasswordHashing::OWASP
    }
}

/// How the host site proves a widget visitor's identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityConfig {
    /// HMAC-SHA256 secret shared with the host site (≥ 32 bytes) for signed identities.
    pub hmac_secret: Option<Secret>,
    /// HS256 key the host site signs identity JWTs with (≥ 32 bytes).
    pub jwt_secret: Option<Secret>,
    /// Required `iss` of host identity JWTs, if set.
    pub jwt_issuer: Option<String>,
    /// Longest lifetime (`exp - iat`) accepted for a host identity JWT (default 10 min).
    pub jwt_max_age: Option<Duration>,
    /// Reject anonymous visitors: every widget session must carry a verified identity.
    pub require_verified: bool,
}

/// Where the reset token goes in [`MailConfig::reset_link_template`].
pub const RESET_TOKEN_PLACEHOLDER: &str = "{token}";

/// Email wording and links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// Product name used in subjects.
    pub product_name: String,
    /// Password reset link with `{token}` where the token goes,
    /// e.g. `https://support.example.com/console/reset?token={token}`.
    /// Without it the mail carries the bare token.
    pub reset_link_template: Option<String>,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            product_name: "NeuroChat".to_owned(),
            reset_link_template: None,
        }
    }
}

/// Ticket lifecycle, assignment, service levels and chat notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketConfig {
    /// Give new tickets to the online agent with the fewest open tickets under
    /// their capacity; tickets nobody can take wait for the next free agent.
    pub auto_assign: bool,
    /// Close resolved tickets after this long (`None`: never close).
    pub close_after_resolved: Option<Duration>,
    /// Escalate a ticket still `new` after this long (`None`: never).
    pub escalate_new_after: Option<Duration>,
    /// First-response target: escalate a customer message no agent answered
    /// within this long (`None`: never).
    pub escalate_unanswered_after: Option<Duration>,
    /// Email a customer about agent replies they have not read after this long
    /// (one mail per batch of replies; `None`: never).
    pub customer_email_delay: Option<Duration>,
    /// Email an assignee who is not online when a ticket is assigned to them.
    pub email_offline_assignee: bool,
    /// A typing indicator ends by itself after this long without a refresh.
    pub typing_ttl: Duration,
}

impl Default for TicketConfig {
    fn default() -> Self {
        TicketConfig {
            auto_assign: false,
            close_after_resolved: Some(Duration::days(7)),
            escalate_new_after: Some(Duration::minutes(15)),
            escalate_unanswered_after: Some(Duration::minutes(60)),
            customer_email_delay: Some(Duration::minutes(10)),
            email_offline_assignee: true,
            typing_ttl: Duration::seconds(8),
        }
    }
}

/// Everything the core needs to know, as one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Access/refresh token settings.
    pub tokens: TokenConfig,
    /// Password hashing cost.
    pub password_hashing: PasswordHashing,
    /// How long a password reset token lives (default 30 min).
    pub reset_ttl: Duration,
    /// How long a widget visitor session lives (default 180 days).
    pub visitor_ttl: Duration,
    /// Host identity verification for the widget.
    pub identity: IdentityConfig,
    /// Email wording.
    pub mail: MailConfig,
    /// Tickets, assignment, SLAs and chat notifications.
    pub tickets: TicketConfig,
}

impl Config {
    /// Defaults everywhere, signing access tokens with `signing_secret`
    /// (≥ 32 random bytes; the builder rejects shorter keys) under key id `k1`.
    pub fn new(signing_secret: impl Into<Vec<u8>>) -> Self {
        Config {
            tokens: TokenConfig {
                issuer: "neurochat".to_owned(),
                audience: "neurochat".to_owned(),
                access_ttl: Duration::minutes(15),
                refresh_ttl: Duration::days(30),
                session_max_age: Duration::days(90),
                current_key: SigningKey {
                    kid: "k1".to_owned(),
                    secret: Secret::new(signing_secret),
                },
                previous_keys: Vec::new(),
                leeway_secs: 0,
            },
            password_hashing: PasswordHashing::OWASP,
            reset_ttl: Duration::minutes(30),
            visitor_ttl: Duration::days(180),
            identity: IdentityConfig::default(),
            mail: MailConfig::default(),
            tickets: TicketConfig::default(),
        }
    }

    /// Checks invariants the builder relies on.
    pub fn validate(&self) -> Result<(), String> {
        let mut keys = vec![&self.tokens.current_key];
        keys.extend(self.tokens.previous_keys.iter());
        for k in &keys {
            if k.secret.expose().len() < 32 {
                return Err(format!("signing key `{}` is shorter than 32 bytes", k.kid));
            }
            if k.kid.is_empty() {
                return Err("signing key id is empty".to_owned());
            }
        }
        let mut kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
        kids.sort_unstable();
        kids.dedup();
        if kids.len() != keys.len() {
            return Err("signing key ids must be distinct".to_owned());
        }
        for (name, s) in [
            ("identity.hmac_secret", &self.identity.hmac_secret),
            ("identity.jwt_secret", &self.identity.jwt_secret),
        ] {
            if s.as_ref().is_some_and(|s| s.expose().len() < 32) {
                return Err(format!("{name} is shorter than 32 bytes"));
            }
        }
        if self.tokens.access_ttl <= Duration::ZERO || self.tokens.refresh_ttl <= Duration::ZERO {
            return Err("token lifetimes must be positive".to_owned());
        }
        let t = &self.tickets;
        for (name, d) in [
            ("tickets.close_after_resolved", t.close_after_resolved),
            ("tickets.escalate_new_after", t.escalate_new_after),
            (
                "tickets.escalate_unanswered_after",
                t.escalate_unanswered_after,
            ),
            ("tickets.customer_email_delay", t.customer_email_delay),
            ("tickets.typing_ttl", Some(t.typing_ttl)),
        ] {
            if d.is_some_and(|d| d <= Duration::ZERO) {
                return Err(format!("{name} must be positive"));
            }
        }
        let h = self.password_hashing;
        if h.m_cost_kib < 8 * h.p_cost || h.t_cost == 0 || h.p_cost == 0 {
            return Err("argon2 parameters out of range".to_owned());
        }
        Ok(())
    }
}
