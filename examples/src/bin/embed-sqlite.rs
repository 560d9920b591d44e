//! NeuroChat embedded in a program, end to end, on a SQLite file.
//!
//! Until the HTTP server exists, this program shows the library at work:
//! it opens (or creates) a SQLite database, builds a [`Desk`], makes sure an
//! admin exists, registers a customer (or logs in if the email is taken from
//! an earlier run), logs in, authenticates the access token, rotates the
//! refresh token, shows that presenting a spent refresh token again ends the
//! whole session, and reads the audit log as the admin.
//!
//! ```text
//! cargo xtask run                 # ./neurochat.db in the workspace root
//! cargo xtask run /tmp/demo.db    # or any path whose directory exists
//! ```
//!
//! It can run again and again on the same file. Passwords are never printed
//! and tokens only as their first characters.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use neurochat_core::domain::{AuditEntry, AuditFilter, UserId};
use neurochat_core::ports::Store;
use neurochat_core::service::auth::{AuthSession, Registration};
use neurochat_core::{Config, Desk, Error, Principal, RequestContext};
use neurochat_protocol::v1::ErrorCode;
use neurochat_storage_sqlx::SqliteStore;
use rand::RngCore as _;
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use time::format_description::well_known::iso8601::{Config as IsoConfig, TimePrecision};

const TIMESTAMP_MILLIS: u128 = IsoConfig::DEFAULT
    .set_time_precision(TimePrecision::Second {
        decimal_digits: std::num::NonZeroU8::new(3),
    })
    .encode();

/// Demo accounts. They are fixed so the program can run again on the same
/// database and log in to what it created before. A real host takes such
/// values from its own configuration and never hard-codes a password.
const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "demo admin password, change me";
const CUSTOMER_EMAIL: &str = "ada@example.com";
const CUSTOMER_PASSWORD: &str = "correct horse battery staple";
const CUSTOMER_NAME: &str = "Ada Lovelace";

/// How many audit entries to show.
const AUDIT_ROWS: u32 = 12;

#[tokio::main]
async fn main() -> Result<()> {
    let path = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("./neurochat.db"), PathBuf::from);
    let existed = path.exists();
    // The example stands for one request source; a server fills this in per request.
    let ctx = RequestContext::from_ip("127.0.0.1");

    println!("NeuroChat embed-sqlite example");
    println!("==============================");

    // ------------------------------------------------------------------
    step(1, "Open the SQLite store and build the desk");
    let store = SqliteStore::open(&path)
        .await
        .with_context(|| format!("opening SQLite database {}", path.display()))?;
    let store: Arc<dyn Store> = Arc::new(store);
    println!(
        "   database {} ({}; migrations applied)",
        path.display(),
        if existed { "existing file" } else { "new file" }
    );

    // The access-token signing key: 32 bytes from the operating system's
    // CSPRNG (`rand` is already a workspace dependency; std has no RNG). It is
    // new on every run, so access tokens of an earlier run stop verifying —
    // fine for a demo that keeps none. A server loads a persistent key from
    // its secret store instead, and lists old keys in `previous_keys` while
    // rotating.
    let mut signing_key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut signing_key);
    let config = Config::new(signing_key.to_vec());
    let hashing = config.password_hashing;
    let desk = Desk::builder(store, config)
        .build()
        .context("building the desk")?;
    println!(
        "   desk ready: HS256 access tokens (key id `k1`, fresh random key), \
         argon2id passwords (m={} KiB, t={}, p={})",
        hashing.m_cost_kib, hashing.t_cost, hashing.p_cost
    );

    // ------------------------------------------------------------------
    step(2, "Make sure an admin exists");
    match desk
        .bootstrap_admin(ADMIN_EMAIL, ADMIN_PASSWORD, "Demo Admin")
        .await?
    {
        Some(admin) => println!(
            "   created the first admin {ADMIN_EMAIL} (user {})",
            admin.id
        ),
        None => println!("   an admin exists already; nothing to do"),
    }

    // ------------------------------------------------------------------
    step(3, "Register a customer");
    let registration = Registration {
        email: CUSTOMER_EMAIL.to_owned(),
        password: CUSTOMER_PASSWORD.to_owned(),
        display_name: CUSTOMER_NAME.to_owned(),
    };
    match desk.register(registration, &ctx).await {
        Ok(session) => {
            println!(
                "   registered {} as {} (user {})",
                CUSTOMER_EMAIL,
                session.user.role.as_str(),
                session.user.id
            );
            println!(
                "   registering also logged them in: session {}",
                session.tokens.session_id
            );
        }
        Err(e) if e.code() == ErrorCode::EmailTaken => {
            println!(
                "   {CUSTOMER_EMAIL} is registered already (`{}`: {}); logging in instead",
                e.code().as_str(),
                e.to_body().message
            );
        }
        Err(e) => return Err(e).context("registering the customer"),
    }

    // ------------------------------------------------------------------
    step(4, "Log in with email and password");
    let login = desk
        .login(CUSTOMER_EMAIL, CUSTOMER_PASSWORD, &ctx)
        .await
        .context("logging in as the customer (was the database made by another program?)")?;
    println!(
        "   logged in as {} ({})",
        login.user.display_name, CUSTOMER_EMAIL
    );
    print_tokens(&desk, &login);

    // ------------------------------------------------------------------
    step(5, "Authenticate the access token");
    let principal = desk.authenticate(&login.tokens.access_token).await?;
    println!(
        "   the bearer is user {}, role {}, session {}",
        principal.user_id(),
        principal.role().as_str(),
        session_of(&principal)
    );
    println!("   (the role comes from the store, not from the token)");

    // ------------------------------------------------------------------
    step(6, "Refresh: trade the refresh token for a new pair");
    let refreshed = desk.refresh(&login.tokens.refresh_token, &ctx).await?;
    println!(
        "   same session {}, new tokens; the old refresh token is now spent",
        refreshed.tokens.session_id
    );
    print_tokens(&desk, &refreshed);

    // ------------------------------------------------------------------
    step(7, "Present the spent refresh token again (theft detection)");
    let reuse = desk.refresh(&login.tokens.refresh_token, &ctx).await;
    expect_code(
        reuse,
        ErrorCode::RefreshTokenReused,
        "the spent refresh token",
    )?;
    println!("   the whole session is revoked, so the newer tokens are dead too:");
    let newer = desk.refresh(&refreshed.tokens.refresh_token, &ctx).await;
    expect_code(newer, ErrorCode::SessionRevoked, "the newer refresh token")?;
    let access = desk.authenticate(&refreshed.tokens.access_token).await;
    expect_code(access, ErrorCode::SessionRevoked, "the newer access token")?;

    // ------------------------------------------------------------------
    step(8, "Read the audit log as the admin");
    let admin = match desk.login(ADMIN_EMAIL, ADMIN_PASSWORD, &ctx).await {
        Ok(session) => session,
        Err(e) if e.code() == ErrorCode::InvalidCredentials => {
            println!(
                "   this database's admin is not the demo admin ({ADMIN_EMAIL}); \
                 skipping the audit log"
            );
            return Ok(());
        }
        Err(e) => return Err(e).context("logging in as the admin"),
    };
    let admin_principal = desk.authenticate(&admin.tokens.access_token).await?;
    let entries = desk
        .list_audit(
            &admin_principal,
            AuditFilter {
                limit: AUDIT_ROWS,
                ..AuditFilter::default()
            },
        )
        .await?;
    println!("   newest {} entries, newest first:", entries.len());
    let mut names = HashMap::new();
    for entry in &entries {
        print_audit(&desk, &admin_principal, &mut names, entry).await?;
    }

    // ------------------------------------------------------------------
    step(9, "Log the admin out");
    desk.logout(&admin_principal, &ctx).await?;
    println!("   logged out session {}", session_of(&admin_principal));
    let after = desk.authenticate(&admin.tokens.access_token).await;
    expect_code(after, ErrorCode::SessionRevoked, "the admin's access token")?;

    println!();
    println!(
        "Done. Run it again: the same accounts are reused and the audit log grows. \
         Delete {} to start over.",
        path.display()
    );
    Ok(())
}

/// Prints a numbered section header.
fn step(n: u32, title: &str) {
    println!();
    println!("{n}. {title}");
}

/// The first 12 characters of a secret, enough to tell tokens apart.
fn redact(secret: &str) -> String {
    let head: String = secret.chars().take(12).collect();
    format!("{head}…")
}

/// Prints a token pair, redacted, with when each part expires.
fn print_tokens(desk: &Desk, session: &AuthSession) {
    let t = &session.tokens;
    println!(
        "   access token  {}  (JWT, expires {})",
        redact(&t.access_token),
        until(desk, t.access_expires_at)
    );
    println!(
        "   refresh token {}  (single use, expires {})",
        redact(&t.refresh_token),
        until(desk, t.refresh_expires_at)
    );
}

/// "in 15 min" / "in 30 days" from the desk's clock.
fn until(desk: &Desk, at: OffsetDateTime) -> String {
    // Rounded to the nearest unit: a token issued a moment ago for 15 min
    // reads "in 15 min", not "in 14 min".
    let secs = (at - desk.now()).whole_seconds();
    if secs >= 86_400 {
        format!("in {} days", (secs + 43_200) / 86_400)
    } else {
        format!("in {} min", (secs + 30) / 60)
    }
}

/// The principal's session id, for display.
fn session_of(principal: &Principal) -> String {
    principal
        .session_id()
        .map_or_else(|| "-".to_owned(), |s| s.to_string())
}

/// Checks that a call failed with `code`, printing the safe message a client would see.
fn expect_code<T>(result: Result<T, Error>, code: ErrorCode, what: &str) -> Result<()> {
    match result {
        Err(e) if e.code() == code => {
            println!(
                "   rejected {what}: `{}` — \"{}\"",
                code.as_str(),
                e.to_body().message
            );
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("{what}: expected `{}`", code.as_str())),
        Ok(_) => bail!("{what} was accepted; expected `{}`", code.as_str()),
    }
}

/// Prints one audit entry on one line, naming users by email.
async fn print_audit(
    desk: &Desk,
    admin: &Principal,
    names: &mut HashMap<UserId, String>,
    entry: &AuditEntry,
) -> Result<()> {
    // Fixed width (RFC 3339 drops trailing zeros of the fraction).
    let at = entry.at.format(&Iso8601::<TIMESTAMP_MILLIS>)?;
    let actor = match entry.actor_id {
        Some(id) => user_name(desk, admin, names, id).await?,
        None => "anonymous".to_owned(),
    };
    let target = match (entry.target_type.as_deref(), entry.target_id.as_deref()) {
        (Some("user"), Some(id)) => match id.parse::<UserId>() {
            Ok(uid) => format!("user {}", user_name(desk, admin, names, uid).await?),
            Err(_) => format!("user {id}"),
        },
        (Some(kind), Some(id)) => format!("{kind} {id}"),
        _ => String::new(),
    };
    let detail = entry
        .detail
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    println!(
        "   {at}  {:<22} by {:<18} {target}{detail}",
        entry.action.as_str(),
        actor
    );
    Ok(())
}

/// A user's email (or display name), looked up once through the desk as the admin.
async fn user_name(
    desk: &Desk,
    admin: &Principal,
    names: &mut HashMap<UserId, String>,
    id: UserId,
) -> Result<String> {
    if let Some(name) = names.get(&id) {
        return Ok(name.clone());
    }
    let name = match desk.get_user(admin, id).await {
        Ok(user) => user.email.unwrap_or(user.display_name),
        Err(e) if e.code() == ErrorCode::NotFound => id.to_string(),
        Err(e) => return Err(e.into()),
    };
    names.insert(id, name.clone());
    Ok(name)
}
