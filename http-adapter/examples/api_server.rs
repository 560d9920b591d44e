//! The router over SQLite with rate limits off, for machines, not people:
//! `cargo xtask fuzz-api` (schemathesis) and the REST load numbers in the
//! README drive it.
//!
//! ```text
//! api_server [--db PATH] [--tickets N] [--listen ADDR]
//! ```
//!
//! It creates (or reopens) the database, makes sure an admin, an agent and a
//! customer exist, seeds the customer's tickets up to `N`, and prints on
//! stdout, one per line: `listening http://ADDR`, `admin-token T`,
//! `agent-token T`, `customer-token T`, then `ready`. It serves until its
//! stdin closes (so the driving process needs no signals and cannot leave it
//! behind), then prints `requests N` (requests answered) and exits.
//!
//! Password hashing is the cheap test setting and the access tokens live a
//! day: never point this at real data.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use neurochat_core::config::PasswordHashing;
use neurochat_core::domain::Role;
use neurochat_core::service::auth::Registration;
use neurochat_core::service::tickets::NewTicket;
use neurochat_core::{Config, Desk, RequestContext};
use neurochat_http::{EndpointLimits, HttpConfig, MetricsAccess, RateLimits};
use neurochat_storage_sqlx::SqliteStore;
use tokio::io::AsyncReadExt as _;

const PASSWORD: &str = "correct horse battery staple";
const KEY: &[u8] = b"api-server-example-signing-key-0123456789";

struct Args {
    db: Option<PathBuf>,
    tickets: u64,
    listen: SocketAddr,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        db: None,
        tickets: 0,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--db" => args.db = Some(PathBuf::from(value()?)),
            "--tickets" => args.tickets = value()?.parse().context("--tickets")?,
            "--listen" => args.listen = value()?.parse().context("--listen")?,
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(args)
}

/// Logs in `email`, registering it (and giving it `role`) first if new.
async fn account(desk: &Desk, admin: Option<&str>, email: &str, role: Role) -> Result<String> {
    let ctx = RequestContext::default();
    if let Ok(s) = desk.login(email, PASSWORD, &ctx).await {
        return Ok(s.tokens.access_token);
    }
    let reg = Registration {
        email: email.into(),
        password: PASSWORD.into(),
        display_name: email.split('@').next().unwrap_or("user").into(),
    };
    let s = desk.register(reg, &ctx).await?;
    if role != Role::Customer {
        let admin = desk
            .authenticate(admin.context("an admin token is needed to set roles")?)
            .await?;
        desk.set_role(&admin, s.user.id, role, &ctx).await?;
    }
    Ok(desk.login(email, PASSWORD, &ctx).await?.tokens.access_token)
}

/// Opens tickets as `customer` until the store holds `want` tickets. 64 in
/// flight: SQLite serialises the writes anyway, but this keeps its single
/// writer busy instead of waiting on one round trip at a time.
/// How many are there is kept in `<db>.seeded` (the store has no count), so
/// a reused database is seeded once.
async fn seed(desk: &Desk, db: &std::path::Path, customer: &str, want: u64) -> Result<()> {
    let principal = desk.authenticate(customer).await?;
    let marker = db.with_extension("seeded");
    let have: u64 = std::fs::read_to_string(&marker)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    if have >= want {
        return Ok(());
    }
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(have));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (desk, principal, next) = (desk.clone(), principal.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let ctx = RequestContext::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= want {
                    return anyhow::Ok(());
                }
                let t = NewTicket {
                    subject: format!("Seeded ticket {i}: cannot log in on device {}", i % 97),
                    body: format!("Seed message {i}. The app says my password is wrong."),
                    client_msg_id: format!("seed-{i}"),
                    category_id: None,
                    priority: None,
                };
                desk.create_ticket(&principal, t, &ctx).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    std::fs::write(&marker, want.to_string())?;
    eprintln!(
        "seeded {} tickets in {:.1}s",
        want - have,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let tmp = tempfile::tempdir()?;
    let path = args.db.unwrap_or_else(|| tmp.path().join("neurochat.db"));
    let store = Arc::new(SqliteStore::open(&path).await?);
    let mut config = Config::new(KEY);
    config.password_hashing = PasswordHashing::INSECURE_FAST_FOR_TESTS;
    config.tokens.access_ttl = time::Duration::hours(24);
    let desk = Desk::builder(store, config).build()?;

    desk.bootstrap_admin("admin@example.com", PASSWORD, "Admin")
        .await?;
    let admin = account(&desk, None, "admin@example.com", Role::Admin).await?;
    let agent = account(&desk, Some(&admin), "agent@example.com", Role::Agent).await?;
    let customer = account(&desk, None, "customer@example.com", Role::Customer).await?;
    seed(&desk, &path, &customer, args.tickets).await?;

    let off = EndpointLimits {
        per_ip: None,
        per_account: None,
    };
    let http = HttpConfig {
        rate_limits: RateLimits {
            login: off,
            password_reset: off,
            writes: None,
            ticket_create: off,
            widget_status: None,
            ..RateLimits::default()
        },
        metrics: MetricsAccess::Open,
        ..HttpConfig::default()
    };
    let served = Arc::new(AtomicU64::new(0));
    let counter = served.clone();
    let app = neurochat_http::router(desk, http).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let counter = counter.clone();
            async move {
                let resp = next.run(req).await;
                counter.fetch_add(1, Ordering::Relaxed);
                resp
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!("listening http://{}", listener.local_addr()?);
    println!("admin-token {admin}");
    println!("agent-token {agent}");
    println!("customer-token {customer}");
    println!("ready");

    let stdin_closed = async {
        let mut buf = [0u8; 64];
        let mut stdin = tokio::io::stdin();
        while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
    };
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stdin_closed)
    .await?;
    println!("requests {}", served.load(Ordering::Relaxed));
    Ok(())
}
