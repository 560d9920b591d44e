//! Start-up, the router, serving and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::serve::{Listener, ListenerExt as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use neurochat_core::ports::Store;
use neurochat_core::{Config, Desk};
use neurochat_http::{HttpConfig, MetricsAccess};
use neurochat_storage_sqlx::SqliteStore;
use neurochat_transport_ws::Gateway;
use rand::RngCore as _;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::{self, Database, Settings};
use crate::keys::{self, KeySource};
use crate::{console, tls, widget};

/// How often escalations, auto-close, reply emails and the mail outbox run.
const BACKGROUND_EVERY: Duration = Duration::from_secs(15);
/// How long the store gets to write what is queued after the last request.
const STORE_DRAIN: Duration = Duration::from_millis(500);

/// Runs the server until SIGINT or SIGTERM, then shuts it down gracefully.
pub async fn run(settings: Settings) -> Result<()> {
    let Database::Sqlite(path) = &settings.database;
    let existed = path.exists();
    let store = SqliteStore::open(path)
        .await
        .with_context(|| format!("opening the SQLite database {}", path.display()))?;
    tracing::info!(
        path = %path.display(),
        new = !existed,
        "database open and migrated"
    );
    // Kept to flush and close the database after the last request.
    let store_tasks = store.tasks();
    let pool = store.pool().clone();
    let store: Arc<dyn Store> = Arc::new(store);

    let (key, source) = keys::signing_key(settings.jwt_key.as_ref(), &settings.key_file)?;
    match source {
        KeySource::Configured => tracing::info!("JWT signing key: configured"),
        KeySource::KeyFile => {
            tracing::info!(file = %settings.key_file.display(), "JWT signing key: from the key file");
        }
        KeySource::Generated => tracing::info!(
            file = %settings.key_file.display(),
            "JWT signing key: generated on first start and saved (mode 0600)"
        ),
    }
    // Bound first: the public address of mailed links defaults to it.
    let tcp = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = tcp.local_addr().context("the bound address")?;
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let public_url = match &settings.public_url {
        Some(url) => url.clone(),
        None => {
            if addr.ip().is_unspecified() {
                tracing::warn!(
                    %addr,
                    "listening on an unspecified address: mailed links use localhost; set --public-url"
                );
            }
            config::default_public_url(scheme, addr)
        }
    };
    let reset_link =
        config::reset_link_template(settings.reset_link_template.as_deref(), &public_url);
    // The template only: the token is filled in per mail and never logged.
    tracing::info!(template = %reset_link, "password reset links");

    let mut config = Config::new(Vec::new());
    config.tokens.current_key = key;
    config.identity.hmac_secret = settings.identity_hmac_secret.clone();
    config.mail.reset_link_template = Some(reset_link);
    let desk = Desk::builder(store, config)
        .build()
        .context("building the desk")?;
    ensure_admin(&desk, &settings).await?;

    let http = HttpConfig {
        allowed_origins: settings.allowed_origins.clone(),
        metrics: match &settings.metrics_token {
            Some(token) => MetricsAccess::BearerToken(token.expose().to_owned()),
            None => MetricsAccess::Off,
        },
        ..HttpConfig::default()
    };
    // The gateway's `Origin` allow-list stays open (`None`), so the widget
    // connects from the server's own pages and from every host site alike:
    // WebSocket clients authenticate with a token in their first frame,
    // never with cookies, so a foreign page gains nothing by connecting.
    // Filling it from --allowed-origin would instead shut out the server's
    // own origin (the /demo page), which no setting names.
    let gateway = Gateway::new(desk.clone(), http.gateway.clone());

    let app = app(
        gateway.clone(),
        http,
        &settings.web_dir,
        &settings.console_dir,
    );

    let (stop, stopping) = watch::channel(false);
    // Installed here, before the banner: a spawned task installs nothing
    // until it first runs, and a SIGTERM sent right after the banner then
    // killed the process instead of shutting it down (seen in CI).
    let signal = shutdown_signal();
    tokio::spawn(async move {
        signal.await;
        stop.send_replace(true);
    });
    let worker = desk.spawn_background_worker(BACKGROUND_EVERY, stopped(stopping.clone()));
    let graceful = {
        let gateway = gateway.clone();
        let stopping = stopping.clone();
        async move {
            stopped(stopping).await;
            tracing::info!("shutting down: no new connections, WebSockets closing with 1001");
            gateway.shutdown();
        }
    };
    let mut server = match &settings.tls {
        None => {
            let listener = tcp.tap_io(|s| {
                let _ = s.set_nodelay(true);
            });
            tokio::spawn(serve(listener, app, graceful))
        }
        Some(files) => {
            let tls = tls::server_config(&files.cert, &files.key)?;
            let listener = tls::TlsListener::new(tcp, tls).context("the TLS listener")?;
            tokio::spawn(serve(listener, app, graceful))
        }
    };
    // The banner goes to stdout (logs go to stderr): scripts and tests read
    // the bound address from this line.
    println!("NeuroChat listening on {scheme}://{addr}");
    println!("  demo page:  {scheme}://{addr}/demo");
    println!("  console:    {scheme}://{addr}/console");
    println!("  API docs:   {scheme}://{addr}/api/v1/openapi.json");
    tracing::info!(%addr, scheme, "listening");

    let finished = tokio::select! {
        biased;
        () = stopped(stopping.clone()) => None,
        done = &mut server => Some(done),
    };
    // Once asked to stop, the server also ends by itself, and the select
    // may see that first even though `biased` polls the stop branch first:
    // a watch receiver waiting in `changed()` only wakes when its own
    // notification arrives, which can come after another task has already
    // reacted to the new value. So the value decides: only an end without a
    // stop request is an error.
    let finished = match finished {
        Some(done) if !*stopping.borrow() => {
            done.context("the server task")?.context("serving")?;
            bail!("the server stopped unexpectedly");
        }
        other => other,
    };

    let deadline = Instant::now() + settings.shutdown_timeout;
    let done = match finished {
        Some(done) => Ok(done),
        None => tokio::time::timeout_at(deadline, &mut server).await,
    };
    match done {
        Ok(done) => {
            if let Err(e) = done
                .context("the server task")
                .and_then(|r| r.context("serving"))
            {
                tracing::warn!(error = format!("{e:#}"), "the server ended with an error");
            }
        }
        Err(_) => {
            tracing::warn!("in-flight requests did not finish in time; cutting them off");
            server.abort();
        }
    }
    // Upgraded WebSockets run outside axum's connection tracking: wait for
    // the gateway to count the sessions out (each flushes, then sends 1001).
    while gateway.connections() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if gateway.connections() > 0 {
        tracing::warn!(
            open = gateway.connections(),
            "WebSocket sessions did not close in time"
        );
    }
    let _ = worker.await;

    // Flush and close the database. Every acknowledged write has already
    // committed (the store answers after its commit), so this is about a
    // tidy file: once the last handle is gone the store's writer finishes
    // what is queued and its tasks end, and closing the pool lets SQLite
    // checkpoint the WAL into the database file.
    drop(gateway);
    drop(desk);
    // An agent's presence timer (the gateway's grace period) may hold a
    // handle a while longer; it is dropped with the runtime and has nothing
    // worth writing after a shutdown, so do not wait for it.
    if tokio::time::timeout(STORE_DRAIN, store_tasks.stopped())
        .await
        .is_err()
    {
        tracing::debug!("store handles still held by timers; closing the pool anyway");
    }
    match tokio::time::timeout(Duration::from_secs(5), pool.close()).await {
        Ok(()) => tracing::info!("database closed"),
        Err(_) => tracing::warn!("closing the database timed out"),
    }
    println!("NeuroChat stopped");
    Ok(())
}

/// The API at the root, the demo page, the widget's files under
/// `/widget/` (from `web_dir`) and the agent console at `/console` (from
/// `console_dir`).
pub fn app(
    gateway: Arc<Gateway>,
    http: HttpConfig,
    web_dir: &std::path::Path,
    console_dir: &std::path::Path,
) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/demo") }))
        .route("/demo", get(demo))
        .merge(widget::router(web_dir))
        .merge(console::router(console_dir))
        .merge(neurochat_http::router_with_gateway(gateway, http))
}

/// `/demo`: a host page embedding the widget with its one script tag, under
/// the strict CSP docs/WIDGET.md gives host sites (same origin here, so
/// `'self'` stands for the server).
async fn demo() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, DEMO_CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        DEMO_PAGE,
    )
}

/// The demo page's policy: the widget's scripts and module from this
/// origin, its REST calls and WebSocket to it, and nothing else.
const DEMO_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const DEMO_PAGE: &str = concat!(
    r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>NeuroChat demo</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}</style>
</head>
<body>
<h1>NeuroChat is running</h1>
<p>This is the demo host page: the customer chat widget sits in the corner
(its launcher opens it). A site embeds it with one tag:</p>
<pre><code>&lt;script src="https://SERVER/widget/neurochat.js" data-server="https://SERVER" async&gt;&lt;/script&gt;</code></pre>
<p>No launcher? Build the widget with <code>cargo xtask web</code> and reload.
The REST API lives under <code>/api/v1</code> (described in
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>), the real-time
protocol on <code>/ws</code>.</p>
"#,
    r#"<script src="/widget/neurochat.js" async></script>"#,
    "\n</body>\n</html>\n"
);

/// Creates the first admin if the database has none. A generated password
/// is printed to stdout exactly once; it is never logged.
async fn ensure_admin(desk: &Desk, settings: &Settings) -> Result<()> {
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (generate_password(), true),
    };
    let created = desk
        .bootstrap_admin(&settings.admin_email, &password, "Administrator")
        .await
        .map_err(|e| anyhow::anyhow!("creating the first admin {}: {e}", settings.admin_email))?;
    match created {
        Some(admin) => {
            tracing::info!(user = %admin.id, email = %settings.admin_email, "created the first admin");
            println!("Created the first admin: {}", settings.admin_email);
            if generated {
                println!("  one-time admin password: {password}");
                println!("  (shown only now; log in and change it)");
            }
        }
        None if settings.admin_password.is_some() => tracing::info!(
            "an admin exists already; --admin-email and --admin-password apply on first start only"
        ),
        None => {}
    }
    Ok(())
}

/// 18 random bytes as 24 URL-safe characters (144 bits).
fn generate_password() -> String {
    let mut bytes = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Serves `app` on `listener` with client addresses for rate limits and the
/// audit log, until `graceful` completes and in-flight requests finish.
async fn serve<L>(
    listener: L,
    app: Router,
    graceful: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener<Addr = SocketAddr>,
{
    // `tap_io` wraps any listener in the type axum provides `ConnectInfo`
    // for; the closure itself does nothing.
    axum::serve(
        listener.tap_io(|_| {}),
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(graceful)
    .await
}

/// Completes once `stopping` turns true.
async fn stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|s| *s).await;
}

/// SIGINT (Ctrl-C) or SIGTERM. On Unix the listeners are installed when
/// this is called, not when the future is first polled.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        let (ctrl_c, term) = (
            wait_for(interrupt, "SIGINT"),
            wait_for(terminate, "SIGTERM"),
        );
        #[cfg(not(unix))]
        let ctrl_c = async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::error!(error = %e, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => tracing::info!("SIGINT received"),
            () = term => tracing::info!("SIGTERM received"),
        }
    }
}

/// Waits for the signal `listener` listens for; never, if it could not be
/// installed (logged).
#[cfg(unix)]
async fn wait_for(listener: std::io::Result<tokio::signal::unix::Signal>, name: &str) {
    match listener {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for {name}");
            std::future::pending::<()>().await;
        }
    }
}
