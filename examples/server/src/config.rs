//! The server's settings: command-line flags, `NEUROCHAT_*` environment
//! variables and an optional TOML file, resolved into one [`Settings`].
//!
//! Precedence, highest first: flag, environment variable (clap reads both),
//! TOML file (`--config`), built-in default. Every flag is an `Option` so a
//! value left unset on the command line can still come from the file.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, ValueEnum};
use neurochat_core::config::Secret;
use serde::Deserialize;

/// The address the server listens on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The database used by default, relative to the working directory.
pub const DEFAULT_DATABASE: &str = "sqlite://neurochat.db";
/// The first admin's email when none is configured.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@example.com";
/// The widget's built files (`cargo xtask web`), relative to the working
/// directory: right when the server runs from the workspace root
/// (`cargo xtask run` passes the absolute path instead).
pub const DEFAULT_WEB_DIR: &str = "target/web/widget";

/// A secret given on the command line, in the environment or in the file.
/// Its `Debug` never prints it, so the parsed flags can be logged or shown
/// in a panic without leaking it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct SecretArg(String);

impl SecretArg {
    /// The secret text; handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl FromStr for SecretArg {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SecretArg(s.to_owned()))
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// NeuroChat example server: customer-support tickets with real-time chat.
///
/// With no options it listens on `http://127.0.0.1:8080`, keeps its data in
/// ./neurochat.db (created and migrated if missing), generates a JWT signing
/// key into ./neurochat.db.key on first start, and creates an admin whose
/// one-time password it prints once. Every option can also be set with the
/// environment variable shown, or in a TOML file given with --config (keys
/// are the long option names with `_` for `-`, e.g. `listen = "0.0.0.0:80"`).
/// Flags win over the environment, which wins over the file. RUST_LOG sets
/// the log filter (default `info`).
#[derive(Parser, Default)]
#[command(name = "neurochat-server", version, max_term_width = 100)]
pub struct Cli {
    /// TOML file with any of the settings below.
    #[arg(long, env = "NEUROCHAT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address and port to listen on; port 0 picks a free port (the bound
    /// address is printed). (default: 127.0.0.1:8080)
    #[arg(long, env = "NEUROCHAT_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Database URL: `sqlite://PATH` (relative to the working directory) or
    /// `sqlite:///ABSOLUTE/PATH`. PostgreSQL and SQL Server are not available
    /// yet. (default: sqlite://neurochat.db)
    #[arg(long, env = "NEUROCHAT_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,

    /// File holding the generated JWT signing key (created with mode 0600 on
    /// first start; keep it with the database so tokens survive restarts).
    /// Unused when --jwt-key is set. (default: the database path + `.key`)
    #[arg(long, env = "NEUROCHAT_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    /// JWT signing key (at least 32 bytes). When set it wins over the key
    /// file, and no key file is written.
    #[arg(
        long,
        env = "NEUROCHAT_JWT_KEY",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub jwt_key: Option<SecretArg>,

    /// Email of the admin created on first start (when the database has no
    /// admin yet). (default: admin@example.com)
    #[arg(long, env = "NEUROCHAT_ADMIN_EMAIL", value_name = "EMAIL")]
    pub admin_email: Option<String>,

    /// Password of the admin created on first start. Without it a random
    /// one-time password is generated and printed once.
    #[arg(
        long,
        env = "NEUROCHAT_ADMIN_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub admin_password: Option<SecretArg>,

    /// Log format. (default: text)
    #[arg(long, env = "NEUROCHAT_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// PEM certificate chain for HTTPS (needs --tls-key). Without both, the
    /// server speaks plain HTTP.
    #[arg(
        long,
        env = "NEUROCHAT_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key (PKCS#8, PKCS#1 or SEC1) for HTTPS (needs --tls-cert).
    #[arg(
        long,
        env = "NEUROCHAT_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Browser origin (e.g. `https://shop.example.com`) allowed to call the
    /// REST API cross-origin, i.e. a site embedding the widget. Repeat the
    /// flag, or separate with commas in the variable. The WebSocket accepts
    /// any origin (its clients authenticate with a token, never a cookie).
    /// (default: none)
    #[arg(
        long = "allowed-origin",
        env = "NEUROCHAT_ALLOWED_ORIGINS",
        value_name = "ORIGIN",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// HMAC-SHA256 secret (at least 32 bytes) shared with host sites that
    /// vouch for their logged-in users in the widget. (default: none)
    #[arg(
        long,
        env = "NEUROCHAT_IDENTITY_HMAC_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub identity_hmac_secret: Option<SecretArg>,

    /// Seconds in-flight requests and WebSocket sessions get to finish after
    /// SIGINT/SIGTERM before they are cut off. (default: 10)
    #[arg(long, env = "NEUROCHAT_SHUTDOWN_TIMEOUT", value_name = "SECONDS")]
    pub shutdown_timeout: Option<u64>,

    /// Bearer token a Prometheus scraper sends to read `GET /metrics`.
    /// Without it `/metrics` answers 404. (default: none)
    #[arg(
        long,
        env = "NEUROCHAT_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<SecretArg>,

    /// Directory with the chat widget's built files (`cargo xtask web`),
    /// served under `/widget/`. When it is missing the server still starts
    /// and `/widget/*` answers 404. (default: target/web/widget)
    #[arg(long, env = "NEUROCHAT_WEB_DIR", value_name = "DIR")]
    pub web_dir: Option<PathBuf>,

    /// Directory with the agent console's built files (`cargo xtask web`),
    /// served at `/console` (see docs/CONSOLE.md). When it is missing the
    /// server still starts and `/console` says how to build it.
    /// (default: `console` next to the widget's directory, i.e.
    /// target/web/console)
    #[arg(long, env = "NEUROCHAT_CONSOLE_DIR", value_name = "DIR")]
    pub console_dir: Option<PathBuf>,

    /// The address people reach this server at (`https://support.example.com`,
    /// no path), used in links the server mails: a password reset mail
    /// links to the console's reset page there. Set it whenever the server
    /// is reached under another name than its listen address (a proxy, a
    /// domain, 0.0.0.0). (default: the scheme and the bound address, with
    /// `localhost` for an unspecified address such as 0.0.0.0)
    #[arg(long, env = "NEUROCHAT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// The link a password reset mail carries, with `{token}` where the
    /// single-use reset token goes, for a reset page other than the
    /// console's. (default: `PUBLIC_URL/console#/reset?token={token}`, the
    /// console's reset page)
    #[arg(long, env = "NEUROCHAT_RESET_LINK_TEMPLATE", value_name = "URL")]
    pub reset_link_template: Option<String>,
}

impl fmt::Debug for Cli {
    // Written out so that a new secret field cannot slip into Debug output
    // unnoticed: secrets are `SecretArg`s, which print `***` anyway.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cli")
            .field("config", &self.config)
            .field("listen", &self.listen)
            .field("database", &self.database)
            .field("key_file", &self.key_file)
            .field("jwt_key", &self.jwt_key)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &self.admin_password)
            .field("log_format", &self.log_format)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("allowed_origins", &self.allowed_origins)
            .field("identity_hmac_secret", &self.identity_hmac_secret)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("metrics_token", &self.metrics_token)
            .field("web_dir", &self.web_dir)
            .field("console_dir", &self.console_dir)
            .field("public_url", &self.public_url)
            .field("reset_link_template", &self.reset_link_template)
            .finish()
    }
}

/// The `--config` file: the same settings, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    database: Option<String>,
    key_file: Option<PathBuf>,
    jwt_key: Option<SecretArg>,
    admin_email: Option<String>,
    admin_password: Option<SecretArg>,
    log_format: Option<LogFormat>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    allowed_origins: Option<Vec<String>>,
    identity_hmac_secret: Option<SecretArg>,
    shutdown_timeout: Option<u64>,
    metrics_token: Option<SecretArg>,
    web_dir: Option<PathBuf>,
    console_dir: Option<PathBuf>,
    public_url: Option<String>,
    reset_link_template: Option<String>,
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
}

/// Certificate and key files for HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// Every setting, resolved. `Debug` prints secrets as `***`.
#[derive(Debug)]
pub struct Settings {
    /// Listen address.
    pub listen: SocketAddr,
    /// The store.
    pub database: Database,
    /// The generated signing key's file (used when `jwt_key` is `None`).
    pub key_file: PathBuf,
    /// A configured signing key, which wins over the key file.
    pub jwt_key: Option<Secret>,
    /// The first admin's email.
    pub admin_email: String,
    /// The first admin's password; `None`: generate and print one.
    pub admin_password: Option<SecretArg>,
    /// Log format.
    pub log_format: LogFormat,
    /// HTTPS, if configured.
    pub tls: Option<TlsFiles>,
    /// CORS origins of the REST API.
    pub allowed_origins: Vec<String>,
    /// Host identity HMAC secret for the widget.
    pub identity_hmac_secret: Option<Secret>,
    /// Grace period of a shutdown.
    pub shutdown_timeout: Duration,
    /// The scraper's token for `GET /metrics` (`None`: not served).
    pub metrics_token: Option<SecretArg>,
    /// The widget's built files, served under `/widget/`.
    pub web_dir: PathBuf,
    /// The console's built files, served at `/console`.
    pub console_dir: PathBuf,
    /// The configured public address (`scheme://host[:port]`, no trailing
    /// slash); `None`: derived from the bound address at start.
    pub public_url: Option<String>,
    /// A configured reset link (holds `{token}`); `None`: the console's
    /// reset page under the public address ([`reset_link_template`]).
    pub reset_link_template: Option<String>,
}

/// The placeholder of the reset token in a reset link template (core's).
pub use neurochat_core::config::RESET_TOKEN_PLACEHOLDER as TOKEN_PLACEHOLDER;

/// The reset link of a password reset mail: the configured template, or
/// the console's reset page under `public_url` (docs/CONSOLE.md,
/// "Passwords": the console reads the token from `#/reset?token=…`).
pub fn reset_link_template(configured: Option<&str>, public_url: &str) -> String {
    match configured {
        Some(t) => t.to_owned(),
        None => format!("{public_url}/console#/reset?token={TOKEN_PLACEHOLDER}"),
    }
}

/// The public address when none is configured: the scheme and the bound
/// address (`localhost` standing in for an unspecified one, which no
/// browser can open).
pub fn default_public_url(scheme: &str, addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("{scheme}://localhost:{}", addr.port())
    } else {
        format!("{scheme}://{addr}")
    }
}

/// Checks a configured public address: `http(s)://host[:port]`, no path,
/// query or fragment; a trailing slash is dropped.
fn parse_public_url(url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let Some(rest) = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
    else {
        bail!("--public-url `{url}` must start with http:// or https://");
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ', '@']) {
        bail!("--public-url `{url}` must be scheme://host[:port], without a path");
    }
    Ok(trimmed.to_owned())
}

/// Checks a configured reset link template: an http(s) URL with `{token}`.
fn parse_reset_template(t: &str) -> Result<String> {
    let t = t.trim();
    if !(t.starts_with("https://") || t.starts_with("http://")) {
        bail!("--reset-link-template must be an http:// or https:// URL");
    }
    if !t.contains(TOKEN_PLACEHOLDER) {
        bail!("--reset-link-template must contain {TOKEN_PLACEHOLDER} where the reset token goes");
    }
    Ok(t.to_owned())
}

impl Cli {
    /// Resolves the flags (and environment) over the `--config` file and the
    /// defaults.
    pub fn resolve(self) -> Result<Settings> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let database = self
            .database
            .or(file.database)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let database = parse_database_url(&database)?;
        let Database::Sqlite(db_path) = &database;
        let key_file = self
            .key_file
            .or(file.key_file)
            .unwrap_or_else(|| default_key_file(db_path));
        let tls = match (
            self.tls_cert.or(file.tls_cert),
            self.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            _ => bail!("TLS needs both a certificate (--tls-cert) and a key (--tls-key)"),
        };
        let allowed_origins = if self.allowed_origins.is_empty() {
            file.allowed_origins.unwrap_or_default()
        } else {
            self.allowed_origins
        };
        let listen = match self.listen.or(file.listen) {
            Some(a) => a,
            None => DEFAULT_LISTEN.parse().context("default listen address")?,
        };
        let web_dir = self
            .web_dir
            .or(file.web_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_WEB_DIR));
        Ok(Settings {
            listen,
            database,
            key_file,
            jwt_key: self
                .jwt_key
                .or(file.jwt_key)
                .map(|s| Secret::new(s.0.into_bytes())),
            admin_email: self
                .admin_email
                .or(file.admin_email)
                .unwrap_or_else(|| DEFAULT_ADMIN_EMAIL.to_owned()),
            admin_password: self.admin_password.or(file.admin_password),
            log_format: self
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            tls,
            allowed_origins,
            identity_hmac_secret: self
                .identity_hmac_secret
                .or(file.identity_hmac_secret)
                .map(|s| Secret::new(s.0.into_bytes())),
            shutdown_timeout: Duration::from_secs(
                self.shutdown_timeout
                    .or(file.shutdown_timeout)
                    .unwrap_or(10),
            ),
            metrics_token: self.metrics_token.or(file.metrics_token),
            public_url: self
                .public_url
                .or(file.public_url)
                .map(|u| parse_public_url(&u))
                .transpose()?,
            reset_link_template: self
                .reset_link_template
                .or(file.reset_link_template)
                .map(|t| parse_reset_template(&t))
                .transpose()?,
            console_dir: match self.console_dir.or(file.console_dir) {
                Some(dir) => dir,
                None => web_dir.parent().unwrap_or(Path::new("")).join("console"),
            },
            web_dir,
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the config file {}", path.display()))?;
    // toml's error names the line and key, never echoes a secret's value
    // beyond the offending line, which the operator wrote themselves.
    toml::from_str(&text).with_context(|| format!("parsing the config file {}", path.display()))
}

/// `sqlite://neurochat.db` → `neurochat.db`; `sqlite:///var/x.db` → `/var/x.db`.
pub fn parse_database_url(url: &str) -> Result<Database> {
    let Some((scheme, rest)) = url.split_once(':') else {
        bail!("database URL `{url}` has no scheme; use sqlite://PATH");
    };
    match scheme.to_ascii_lowercase().as_str() {
        "sqlite" => {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                bail!("database URL `{url}` names no file; use sqlite://PATH");
            }
            Ok(Database::Sqlite(PathBuf::from(path)))
        }
        // The URL may carry a password: never echo it back.
        "postgres" | "postgresql" => bail!(
            "PostgreSQL storage is not available yet (it comes with the PostgreSQL store); \
             use sqlite://PATH for now"
        ),
        "mssql" | "sqlserver" => bail!(
            "SQL Server storage is not available yet (it comes with the SQL Server store); \
             use sqlite://PATH for now"
        ),
        other => bail!("unsupported database scheme `{other}`; use sqlite://PATH"),
    }
}

/// `neurochat.db` → `neurochat.db.key`, in the same directory.
fn default_key_file(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".key");
    db.with_file_name(name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            parse_database_url("sqlite://neurochat.db").unwrap(),
            Database::Sqlite("neurochat.db".into())
        );
        assert_eq!(
            parse_database_url("sqlite:///var/lib/nc.db").unwrap(),
            Database::Sqlite("/var/lib/nc.db".into())
        );
        let pg = parse_database_url("postgres://u:hunter2@db/x").unwrap_err();
        assert!(pg.to_string().contains("not available yet"), "{pg}");
        assert!(!pg.to_string().contains("hunter2"));
        let ms = parse_database_url("mssql://db").unwrap_err();
        assert!(ms.to_string().contains("not available yet"), "{ms}");
        assert!(parse_database_url("neurochat.db").is_err());
        assert!(parse_database_url("sqlite://").is_err());
    }

    #[test]
    fn defaults_with_no_flags() {
        let s = Cli::default().resolve().unwrap();
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.database, Database::Sqlite("neurochat.db".into()));
        assert_eq!(s.key_file, PathBuf::from("neurochat.db.key"));
        assert_eq!(s.admin_email, DEFAULT_ADMIN_EMAIL);
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.web_dir, PathBuf::from(DEFAULT_WEB_DIR));
        assert_eq!(s.console_dir, PathBuf::from("target/web/console"));
        assert!(s.tls.is_none() && s.jwt_key.is_none() && s.admin_password.is_none());
        assert!(s.public_url.is_none() && s.reset_link_template.is_none());
    }

    #[test]
    fn the_reset_link_points_at_the_consoles_reset_page() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let base = default_public_url("http", addr);
        assert_eq!(base, "http://127.0.0.1:8080");
        assert_eq!(
            reset_link_template(None, &base),
            "http://127.0.0.1:8080/console#/reset?token={token}"
        );
        let any: SocketAddr = "0.0.0.0:443".parse().unwrap();
        assert_eq!(default_public_url("https", any), "https://localhost:443");
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        assert_eq!(default_public_url("http", v6), "http://[::1]:8080");
        assert_eq!(
            reset_link_template(Some("https://x.test/r?t={token}"), &base),
            "https://x.test/r?t={token}"
        );
    }

    #[test]
    fn public_url_and_reset_template_from_flags_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(
            &file,
            "public_url = \"https://support.example.com/\"\n\
             reset_link_template = \"https://help.example.com/reset/{token}\"\n",
        )
        .unwrap();
        let from_file = Cli {
            config: Some(file.clone()),
            ..Cli::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(
            from_file.public_url.as_deref(),
            Some("https://support.example.com"),
            "the trailing slash is dropped"
        );
        assert_eq!(
            from_file.reset_link_template.as_deref(),
            Some("https://help.example.com/reset/{token}")
        );
        let flag = Cli::try_parse_from([
            "neurochat-server",
            "--config",
            file.to_str().unwrap(),
            "--public-url",
            "http://10.0.0.5:8080",
        ])
        .unwrap()
        .resolve()
        .unwrap();
        assert_eq!(flag.public_url.as_deref(), Some("http://10.0.0.5:8080"));
        for bad in ["support.example.com", "https://x.test/console", "ftp://x"] {
            let cli = Cli {
                public_url: Some(bad.into()),
                ..Cli::default()
            };
            assert!(cli.resolve().is_err(), "{bad}");
        }
        for bad in ["https://x.test/reset", "javascript:{token}"] {
            let cli = Cli {
                reset_link_template: Some(bad.into()),
                ..Cli::default()
            };
            assert!(cli.resolve().is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_win_over_the_file_and_secrets_stay_out_of_debug() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ndatabase = \"sqlite:///tmp/a.db\"\n\
             admin_password = \"file-secret-password\"\njwt_key = \"file-jwt-key-0123456789abcdef0123456789\"\n\
             log_format = \"json\"\nallowed_origins = [\"https://shop.example.com\"]\n\
             web_dir = \"/srv/widget\"\n",
        )
        .unwrap();
        let cli = Cli::try_parse_from([
            "neurochat-server",
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .unwrap();
        let s = cli.resolve().unwrap();
        assert_eq!(s.listen.port(), 0, "the flag wins");
        assert_eq!(
            s.database,
            Database::Sqlite("/tmp/a.db".into()),
            "the file fills in"
        );
        assert_eq!(s.key_file, PathBuf::from("/tmp/a.db.key"));
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.allowed_origins, ["https://shop.example.com"]);
        assert_eq!(s.web_dir, PathBuf::from("/srv/widget"));
        assert_eq!(
            s.console_dir,
            PathBuf::from("/srv/console"),
            "next to the widget"
        );
        let debug = format!("{s:?}");
        assert!(!debug.contains("file-secret-password"), "{debug}");
        assert!(!debug.contains("file-jwt-key"), "{debug}");
    }

    #[test]
    fn unknown_file_keys_and_half_tls_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let cli = Cli {
            config: Some(file),
            ..Cli::default()
        };
        assert!(cli.resolve().is_err());
        assert!(
            Cli::try_parse_from(["neurochat-server", "--tls-cert", "c.pem"]).is_err(),
            "a certificate without a key"
        );
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
