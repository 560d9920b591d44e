//! The `server` subcommand: seed a fresh SQLite database, write the plan,
//! serve the gateway until stdin closes.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context as _, Result};
use futures_util::StreamExt as _;
use neurochat_core::config::PasswordHashing;
use neurochat_core::domain::Role;
use neurochat_core::ports::Store;
use neurochat_core::service::auth::Registration;
use neurochat_core::service::identity::VisitorStart;
use neurochat_core::service::tickets::NewTicket;
use neurochat_core::{Config, Desk, Principal, RequestContext};
use neurochat_storage_sqlx::SqliteStore;
use neurochat_transport_ws::{Gateway, GatewayConfig};
use serde_json::json;
use tokio::net::TcpListener;

use crate::{parse_flags, parse_num};

/// Seeding calls in flight at once (the store serialises writes anyway).
const SEED_CONCURRENCY: usize = 32;
const ADMIN_EMAIL: &str = "loadgen-admin@example.com";
const PASSWORD: &str = "loadgen password, not a secret";

/// What `server` seeds and where it writes.
pub struct Options {
    db: PathBuf,
    plan: PathBuf,
    pairs: usize,
    idle: usize,
    creators: usize,
    agents: usize,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut db = None;
        let mut plan = None;
        let mut o = Options {
            db: PathBuf::new(),
            plan: PathBuf::new(),
            pairs: 100,
            idle: 10_000,
            creators: 100,
            agents: 10,
        };
        parse_flags(args, |k, v| {
            match k {
                "--db" => db = Some(PathBuf::from(v)),
                "--plan" => plan = Some(PathBuf::from(v)),
                "--seed-pairs" => o.pairs = parse_num(k, v)?,
                "--seed-idle" => o.idle = parse_num(k, v)?,
                "--seed-creators" => o.creators = parse_num(k, v)?,
                "--seed-agents" => o.agents = parse_num(k, v)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        o.db = db.context("`server` needs `--db PATH`")?;
        o.plan = plan.context("`server` needs `--plan PATH`")?;
        Ok(o)
    }
}

/// The gateway limits for load: per-connection rate limits out of the way,
/// room for 20,000 connections and generous outbound queues. Everything else
/// (timeouts, pings, frame sizes) keeps its default.
pub fn load_config() -> GatewayConfig {
    GatewayConfig {
        frames_per_second: 1_000_000,
        frame_burst: 1_000_000,
        max_connections: 20_000,
        outbound_queue: 4096,
        ..GatewayConfig::default()
    }
}

pub fn main(o: Options) -> Result<()> {
    // Worker threads default to the CPUs this process may run on: one when
    // started under `taskset -c 0`.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!(
        "server: pid {}, tokio workers {}",
        std::process::id(),
        rt.metrics().num_workers()
    );
    rt.block_on(serve_main(o))
}

async fn serve_main(o: Options) -> Result<()> {
    let store = SqliteStore::open(&o.db)
        .await
        .with_context(|| format!("opening {}", o.db.display()))?;
    let tasks = store.tasks();
    let store: Arc<dyn Store> = Arc::new(store);
    let mut config = Config::new(signing_secret()?);
    config.password_hashing = PasswordHashing::INSECURE_FAST_FOR_TESTS;
    // Longer than any run, so no connection is asked to re-authenticate.
    config.tokens.access_ttl = time::Duration::hours(2);
    let desk = Desk::builder(store, config).build()?;

    println!(
        "server: seeding with PasswordHashing::INSECURE_FAST_FOR_TESTS (password hashing is not measured)"
    );
    let started = Instant::now();
    let plan = seed(&desk, &o).await?;
    println!(
        "server: seeded {} pairs, {} idle customers, {} creators, {} inbox agents in {:.1} s",
        o.pairs,
        o.idle,
        o.creators,
        o.agents,
        started.elapsed().as_secs_f64()
    );

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let mut plan = plan;
    plan["port"] = json!(port);
    plan["pid"] = json!(std::process::id());
    std::fs::write(&o.plan, serde_json::to_vec(&plan)?)
        .with_context(|| format!("writing {}", o.plan.display()))?;

    let gateway = Gateway::new(desk, load_config());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        // Serve until stdin closes (the runner drops its end, or ctrl-d).
        let mut sink = [0u8; 256];
        let mut stdin = std::io::stdin().lock();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        let _ = tx.send(());
    });
    println!("READY {port}");
    std::io::stdout().flush()?;
    neurochat_transport_ws::serve(listener, gateway.clone(), async {
        let _ = rx.await;
    })
    .await;
    let s = gateway.stats();
    let g = tasks.group_commits();
    let c = tasks.checkpoints();
    println!(
        "STATS connections_opened={} messages_relayed={} slow_consumers={} \
         inbox_resyncs={} group_commits={} written_calls={} wal_restarts={} \
         wal_restarts_ahead={} database_syncs={}",
        s.connections_opened.load(Ordering::Relaxed),
        s.messages_relayed.load(Ordering::Relaxed),
        s.slow_consumers.load(Ordering::Relaxed),
        s.inbox_resyncs.load(Ordering::Relaxed),
        g.transactions,
        g.calls,
        c.restarts,
        c.restarts_ahead,
        c.database_syncs
    );
    std::io::stdout().flush()?;
    Ok(())
}

/// 32 random bytes for the access-token key (the database is thrown away).
fn signing_secret() -> Result<Vec<u8>> {
    let mut key = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .context("reading /dev/urandom")?;
    Ok(key)
}

async fn seed(desk: &Desk, o: &Options) -> Result<serde_json::Value> {
    let ctx = RequestContext::default();
    desk.bootstrap_admin(ADMIN_EMAIL, PASSWORD, "Loadgen Admin")
        .await?;
    let admin = desk.login(ADMIN_EMAIL, PASSWORD, &ctx).await?;
    let admin = desk.authenticate_bearer(&admin.tokens.access_token).await?;

    let agents = in_parallel(o.pairs + o.agents, |i| agent(desk, &admin, i)).await?;
    let (pair_agents, inbox_agents) = agents.split_at(o.pairs);
    let pair_customers = in_parallel(o.pairs, |_| customer(desk, true)).await?;
    let idle = in_parallel(o.idle, |_| customer(desk, true)).await?;
    let creators = in_parallel(o.creators, |_| customer(desk, false)).await?;

    let pairs: Vec<_> = pair_customers
        .iter()
        .zip(pair_agents)
        .map(|(c, a)| {
            json!({
                "customer": c.token,
                "agent": a,
                "ticket": c.ticket,
                "last_seq": c.last_seq,
            })
        })
        .collect();
    let idle: Vec<_> = idle
        .iter()
        .map(|c| json!({"token": c.token, "ticket": c.ticket, "last_seq": c.last_seq}))
        .collect();
    let creators: Vec<_> = creators.iter().map(|c| json!(c.token)).collect();
    Ok(json!({
        "pairs": pairs,
        "idle": idle,
        "creators": creators,
        "inbox_agents": inbox_agents,
    }))
}

/// Runs `make(0..n)` with bounded concurrency, keeping the order.
async fn in_parallel<'a, T, F, Fut>(n: usize, make: F) -> Result<Vec<T>>
where
    F: Fn(usize) -> Fut + 'a,
    Fut: std::future::Future<Output = Result<T>> + 'a,
{
    futures_util::stream::iter(0..n)
        .map(make)
        .buffered(SEED_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// An agent account with an access token.
async fn agent(desk: &Desk, admin: &Principal, i: usize) -> Result<String> {
    let ctx = RequestContext::default();
    let email = format!("agent{i}@example.com");
    let registered = desk
        .register(
            Registration {
                email: email.clone(),
                password: PASSWORD.to_owned(),
                display_name: format!("Agent {i}"),
            },
            &ctx,
        )
        .await?;
    desk.set_role(admin, registered.user.id, Role::Agent, &ctx)
        .await?;
    let session = desk.login(&email, PASSWORD, &ctx).await?;
    Ok(session.tokens.access_token)
}

struct Customer {
    token: String,
    ticket: Option<uuid::Uuid>,
    last_seq: i64,
}

/// An anonymous widget visitor, with a ticket of their own if `ticket`.
async fn customer(desk: &Desk, ticket: bool) -> Result<Customer> {
    let ctx = RequestContext::default();
    let visitor = desk
        .start_visitor_session(VisitorStart::default(), &ctx)
        .await?;
    let mut c = Customer {
        token: visitor.token,
        ticket: None,
        last_seq: 0,
    };
    if ticket {
        let p = desk.authenticate_bearer(&c.token).await?;
        let (t, m) = desk
            .create_ticket(
                &p,
                NewTicket {
                    subject: "Load test ticket".to_owned(),
                    body: "Seeded first message.".to_owned(),
                    client_msg_id: "seed".to_owned(),
                    category_id: None,
                    priority: None,
                },
                &ctx,
            )
            .await?;
        c.ticket = Some(t.id.as_uuid());
        c.last_seq = m.seq;
    }
    Ok(c)
}
