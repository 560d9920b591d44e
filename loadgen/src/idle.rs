//! Idle: thousands of authenticated connections, each subscribed to its own
//! ticket; the server's resident memory per connection.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures_util::StreamExt as _;
use neurochat_protocol::v1::ClientFrame;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::plan::Subscriber;
use crate::runner::{Env, Report, thousands};
use crate::wire::{self, Ws};

/// Connection set-ups (connect, handshake, auth, subscribe) in flight at once.
const CONCURRENCY: usize = 200;
/// Opening all connections must finish by then.
const OPEN_TIMEOUT: Duration = Duration::from_secs(90);
/// Time for the server to settle before memory is read.
const SETTLE: Duration = Duration::from_secs(2);

/// What an idle connection saw.
#[derive(Debug, Default)]
struct Idle {
    frames: u64,
    closed: Option<String>,
}

async fn open(port: u16, s: Subscriber, stop: watch::Receiver<bool>) -> Result<JoinHandle<Idle>> {
    let mut ws = wire::connect(port, &s.token, false).await?;
    wire::request(
        &mut ws,
        &ClientFrame::Subscribe {
            req: 1,
            ticket_id: s.ticket,
            last_seq: s.last_seq,
        },
    )
    .await?;
    Ok(tokio::spawn(hold(ws, stop)))
}

/// Keeps reading (the library answers pings on read) until told to stop;
/// then drops the connection.
async fn hold(mut ws: Ws, mut stop: watch::Receiver<bool>) -> Idle {
    let mut seen = Idle::default();
    loop {
        tokio::select! {
            _ = stop.changed() => return seen,
            m = ws.next() => match m {
                Some(Ok(Message::Text(_))) => seen.frames += 1,
                Some(Ok(Message::Close(c))) => {
                    seen.closed = Some(wire::close_reason(c.as_ref()));
                    return seen;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    seen.closed = Some(e.to_string());
                    return seen;
                }
                None => {
                    seen.closed = Some("connection ended".to_owned());
                    return seen;
                }
            }
        }
    }
}

pub async fn run(env: &Env, report: &mut Report) -> Result<()> {
    let n = env.plan.idle.len();
    if n == 0 {
        bail!("no idle customers seeded");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = env.server_rss_kib();
    let client_before = crate::procfs::rss_kib(std::process::id()).unwrap_or(0);
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let cpu0 = env.cpu();
    let port = env.plan.port;
    let opened = tokio::time::timeout(
        OPEN_TIMEOUT,
        futures_util::stream::iter(env.plan.idle.iter().cloned())
            .map(|s| open(port, s, stop_rx.clone()))
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>(),
    )
    .await;
    let open_secs = started.elapsed().as_secs_f64();
    let cpu1 = env.cpu();
    let Ok(opened) = opened else {
        let _ = stop_tx.send(true);
        bail!("opening {n} connections took longer than {OPEN_TIMEOUT:?}");
    };
    let mut holders = Vec::with_capacity(n);
    let mut failed = 0u64;
    let mut first_error = None;
    for r in opened {
        match r {
            Ok(h) => holders.push(h),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    let ok = holders.len() as u64;
    println!(
        "   {} connections subscribed in {open_secs:.1} s ({failed} failed)",
        thousands(ok)
    );
    tokio::time::sleep(SETTLE).await;
    let after = env.server_rss_kib();
    let client_after = crate::procfs::rss_kib(std::process::id()).unwrap_or(0);

    let _ = stop_tx.send(true);
    let mut frames = 0u64;
    let mut closed = 0u64;
    let mut first_close = None;
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        for h in holders {
            if let Ok(i) = h.await {
                frames += i.frames;
                if let Some(c) = i.closed {
                    closed += 1;
                    first_close.get_or_insert(c);
                }
            }
        }
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    let released = env.server_rss_kib();

    let label = "idle";
    let per_conn = if ok > 0 {
        after.saturating_sub(before) as f64 / ok as f64
    } else {
        0.0
    };
    println!("   server RSS +{per_conn:.1} KiB per connection");
    report.row(
        label,
        "connections subscribed",
        format!(
            "{} of {}  ({:.1} s, {:.0} set-ups/s, {CONCURRENCY} at a time)",
            thousands(ok),
            thousands(n as u64),
            open_secs,
            ok as f64 / open_secs.max(1e-9)
        ),
    );
    report.row(
        label,
        "server VmRSS before / after",
        format!(
            "{:.1} MiB / {:.1} MiB",
            before as f64 / 1024.0,
            after as f64 / 1024.0
        ),
    );
    report.row(
        label,
        "server RSS increase per connection",
        format!("{per_conn:.1} KiB"),
    );
    report.row(
        label,
        "server VmRSS 2 s after closing all",
        format!("{:.1} MiB", released as f64 / 1024.0),
    );
    report.row(
        label,
        "loadgen RSS increase per connection",
        format!(
            "{:.1} KiB (client side, for scale)",
            client_after.saturating_sub(client_before) as f64 / ok.max(1) as f64
        ),
    );
    env.cpu_rows(report, label, &cpu0, &cpu1, false);
    if frames > 0 || closed > 0 {
        report.row(
            label,
            "frames while idle / closed by server",
            format!(
                "{frames} / {closed} (first: {})",
                first_close.as_deref().unwrap_or("-")
            ),
        );
    }
    if failed > 0 {
        report.fail(
            label,
            format!(
                "{failed} connections failed; first: {}",
                first_error.as_deref().unwrap_or("-")
            ),
        );
    }
    Ok(())
}
