//! Tickets: customers create tickets as fast as they can while agents watch
//! the inbox; every agent must see a `created` event for every ticket.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use neurochat_protocol::v1::{ClientFrame, ServerFrame, TicketChange};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::runner::{Env, Report, thousands};
use crate::wire::{self, Kind, Ws};

/// Outstanding creates per customer connection.
const WINDOW: u32 = 16;
/// How long after the window acks and events may take to arrive.
const TAIL: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    send_until: Instant,
    tail_until: Instant,
}

/// What one inbox agent saw.
#[derive(Debug, Default)]
struct Seen {
    created: HashSet<u128>,
    duplicates: u64,
    closed: Option<String>,
    bad: Option<String>,
}

async fn watch_inbox(mut ws: Ws, count: Arc<AtomicU64>, mut stop: watch::Receiver<bool>) -> Seen {
    let mut seen = Seen::default();
    let mut checked = false;
    loop {
        let m = tokio::select! {
            _ = stop.changed() => return seen,
            m = ws.next() => m,
        };
        let t = match m {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(c))) => {
                seen.closed = Some(wire::close_reason(c.as_ref()));
                return seen;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                seen.closed = Some(e.to_string());
                return seen;
            }
            None => {
                seen.closed = Some("connection ended".to_owned());
                return seen;
            }
        };
        let t = t.as_str();
        if wire::kind(t) != Kind::TicketEvent || !t.ends_with(r#","change":"created"}"#) {
            continue;
        }
        let Some(id) = wire::uuid_after(t, r#""ticket":{"id":""#) else {
            seen.bad.get_or_insert_with(|| wire::short(t));
            continue;
        };
        if !checked {
            checked = true;
            let agrees = matches!(
                serde_json::from_str::<ServerFrame>(t),
                Ok(ServerFrame::TicketEvent { ticket, change: TicketChange::Created })
                    if ticket.id.as_u128() == id
            );
            if !agrees {
                seen.bad.get_or_insert_with(|| wire::short(t));
            }
        }
        if seen.created.insert(id) {
            count.fetch_add(1, Ordering::Relaxed);
        } else {
            seen.duplicates += 1;
        }
    }
}

/// What one creating customer got.
#[derive(Debug, Default)]
struct Created {
    sent: u64,
    acked_in_window: u64,
    tickets: Vec<u128>,
    errors: u64,
    first_error: Option<String>,
    tail_incomplete: bool,
}

async fn create_loop(ws: &mut Ws, w: Window) -> Created {
    let mut c = Created::default();
    let mut inflight = 0u32;
    let mut req = 1u64;
    let mut checked = false;
    tokio::time::sleep_until(w.start.into()).await;
    let deadline = tokio::time::sleep_until(w.send_until.into());
    tokio::pin!(deadline);
    let mut sending = true;
    loop {
        if sending && Instant::now() >= w.send_until {
            sending = false;
            deadline.as_mut().reset(w.tail_until.into());
        }
        if sending && inflight < WINDOW {
            let mut r = Ok(());
            while inflight < WINDOW && r.is_ok() {
                req += 1;
                r = ws
                    .feed(wire::text(format!(
                        r#"{{"type":"create_ticket","req":{req},"subject":"Load test {req}","body":"Ticket created under load.","client_msg_id":"t{req}"}}"#
                    )))
                    .await;
                inflight += 1;
                c.sent += 1;
            }
            if let Err(e) = r.and(ws.flush().await) {
                c.first_error = Some(format!("send: {e}"));
                return c;
            }
        }
        if !sending && inflight == 0 {
            return c;
        }
        if !sending && Instant::now() >= w.tail_until {
            c.tail_incomplete = true;
            return c;
        }
        let m = tokio::select! {
            m = ws.next() => m,
            () = &mut deadline => continue,
        };
        let t = match m {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(cl))) => {
                c.first_error = Some(format!(
                    "closed by server: {}",
                    wire::close_reason(cl.as_ref())
                ));
                return c;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                c.first_error = Some(e.to_string());
                return c;
            }
            None => {
                c.first_error = Some("connection ended".to_owned());
                return c;
            }
        };
        let t = t.as_str();
        match wire::kind(t) {
            Kind::Ack => {
                inflight = inflight.saturating_sub(1);
                let Some(id) = wire::uuid_after(t, r#""ticket_id":""#) else {
                    c.errors += 1;
                    c.first_error
                        .get_or_insert_with(|| format!("ack without ticket: {}", wire::short(t)));
                    continue;
                };
                if !checked {
                    checked = true;
                    let agrees = matches!(
                        serde_json::from_str::<ServerFrame>(t),
                        Ok(ServerFrame::Ack { ticket_id: Some(tid), .. }) if tid.as_u128() == id
                    );
                    if !agrees {
                        c.errors += 1;
                        c.first_error.get_or_insert_with(|| {
                            format!("quick reading disagrees: {}", wire::short(t))
                        });
                    }
                }
                c.tickets.push(id);
                if Instant::now() < w.send_until {
                    c.acked_in_window += 1;
                }
            }
            Kind::Error => {
                c.errors += 1;
                c.first_error.get_or_insert_with(|| wire::short(t));
                if wire::num_after(t, r#""req":"#).is_some() {
                    inflight = inflight.saturating_sub(1);
                }
            }
            _ => {}
        }
    }
}

async fn creator(
    port: u16,
    token: String,
    mut start: watch::Receiver<Option<Window>>,
    ready: mpsc::Sender<Result<()>>,
) -> Created {
    let mut ws = match wire::connect(port, &token, true).await {
        Ok(ws) => {
            let _ = ready.send(Ok(())).await;
            ws
        }
        Err(e) => {
            let _ = ready.send(Err(e)).await;
            return Created::default();
        }
    };
    let w = loop {
        if start.changed().await.is_err() {
            return Created::default();
        }
        if let Some(w) = *start.borrow_and_update() {
            break w;
        }
    };
    create_loop(&mut ws, w).await
}

pub async fn run(env: &Env, report: &mut Report) -> Result<()> {
    let port = env.plan.port;
    let secs = env.seconds;
    let n_agents = env.plan.inbox_agents.len();
    let n_creators = env.plan.creators.len();
    if n_agents == 0 || n_creators == 0 {
        bail!("no inbox agents or creators seeded");
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut agents = JoinSet::new();
    let mut counters = Vec::new();
    for token in &env.plan.inbox_agents {
        let mut ws = wire::connect(port, token, true).await?;
        wire::request(&mut ws, &ClientFrame::SubscribeInbox { req: 1 }).await?;
        let count = Arc::new(AtomicU64::new(0));
        counters.push(count.clone());
        agents.spawn(watch_inbox(ws, count, stop_rx.clone()));
    }
    let result = creators_and_check(env, report, &counters, n_agents, n_creators, secs).await;
    let _ = stop_tx.send(true);
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(r) = agents.join_next().await {
            if let Ok(s) = r {
                seen.push(s);
            }
        }
    })
    .await;
    agents.abort_all();
    let acked = result?;

    let label = "tickets";
    let mut missing_total = 0u64;
    let mut missing_max = 0u64;
    let mut extra = 0u64;
    let mut dups = 0u64;
    let mut complete = 0usize;
    for s in &seen {
        let missing = acked.iter().filter(|id| !s.created.contains(id)).count() as u64;
        missing_total += missing;
        missing_max = missing_max.max(missing);
        extra += s.created.iter().filter(|id| !acked.contains(id)).count() as u64;
        dups += s.duplicates;
        if missing == 0 {
            complete += 1;
        }
        if let Some(c) = &s.closed {
            report.fail(label, format!("an inbox agent was closed: {c}"));
        }
        if let Some(b) = &s.bad {
            report.fail(label, format!("unreadable ticket_event: {b}"));
        }
    }
    let check = format!(
        "{complete} of {n_agents} agents saw all {}; missing {missing_total} (worst agent {missing_max}), duplicated {dups}, unknown {extra}",
        thousands(acked.len() as u64)
    );
    if complete != n_agents || seen.len() != n_agents || dups > 0 || extra > 0 {
        report.fail(label, format!("created events: {check}"));
    } else {
        report.row(label, "every agent saw `created` for every ticket", check);
    }
    Ok(())
}

async fn creators_and_check(
    env: &Env,
    report: &mut Report,
    counters: &[Arc<AtomicU64>],
    n_agents: usize,
    n_creators: usize,
    secs: u64,
) -> Result<HashSet<u128>> {
    let (start_tx, start_rx) = watch::channel(None);
    let (ready_tx, mut ready_rx) = mpsc::channel(n_creators);
    let mut creators = JoinSet::new();
    for token in &env.plan.creators {
        creators.spawn(creator(
            env.plan.port,
            token.clone(),
            start_rx.clone(),
            ready_tx.clone(),
        ));
    }
    drop(ready_tx);
    let abort = |e: anyhow::Error, creators: &mut JoinSet<Created>| {
        creators.abort_all();
        Err(e)
    };
    for _ in 0..n_creators {
        match tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(e))) => return abort(e.context("connecting a creator"), &mut creators),
            _ => {
                return abort(
                    anyhow!("creators did not connect within 60 s"),
                    &mut creators,
                );
            }
        }
    }
    println!("   {n_agents} inbox agents and {n_creators} creators connected");
    let start = Instant::now() + Duration::from_millis(100);
    let w = Window {
        start,
        send_until: start + Duration::from_secs(secs),
        tail_until: start + Duration::from_secs(secs) + TAIL,
    };
    let _ = start_tx.send(Some(w));
    tokio::time::sleep_until(start.into()).await;
    let cpu0 = env.cpu();
    tokio::time::sleep_until(w.send_until.into()).await;
    let cpu1 = env.cpu();
    let rss = env.server_rss_kib();

    let mut all = Created::default();
    let mut finished = 0usize;
    let mut tail_incomplete = 0usize;
    let mut acked = HashSet::new();
    let mut duplicate_acks = 0u64;
    let _ = tokio::time::timeout_at((w.tail_until + Duration::from_secs(5)).into(), async {
        while let Some(r) = creators.join_next().await {
            if let Ok(c) = r {
                finished += 1;
                all.sent += c.sent;
                all.acked_in_window += c.acked_in_window;
                all.errors += c.errors;
                if all.first_error.is_none() {
                    all.first_error = c.first_error;
                }
                tail_incomplete += usize::from(c.tail_incomplete);
                for id in c.tickets {
                    if !acked.insert(id) {
                        duplicate_acks += 1;
                    }
                }
            }
        }
    })
    .await;
    creators.abort_all();

    // Wait (bounded) for the inbox events of the tail.
    let total = acked.len() as u64;
    let waited = Instant::now();
    while waited.elapsed() < TAIL && counters.iter().any(|c| c.load(Ordering::Relaxed) < total) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let label = "tickets";
    let rate = all.acked_in_window as f64 / secs as f64;
    println!("   {rate:.0} creations/s acknowledged");
    report.row(
        label,
        "creations acknowledged (tickets/s)",
        format!(
            "{rate:.0}  ({} in {secs} s, {n_creators} connections, window {WINDOW}, {n_agents} inbox agents)",
            thousands(all.acked_in_window)
        ),
    );
    report.row(
        label,
        "sent / acked (incl. tail)",
        format!("{} / {}", thousands(all.sent), thousands(total)),
    );
    env.cpu_rows(report, label, &cpu0, &cpu1, true);
    report.row(
        label,
        "  server RSS at end of window",
        format!("{:.1} MiB", rss as f64 / 1024.0),
    );
    if finished < n_creators || tail_incomplete > 0 || duplicate_acks > 0 {
        report.fail(
            label,
            format!(
                "{} creators did not finish, {tail_incomplete} had acks missing after the tail, {duplicate_acks} duplicate ticket ids",
                n_creators - finished
            ),
        );
    }
    if all.errors > 0 || all.first_error.is_some() {
        report.fail(
            label,
            format!(
                "{} errors; first: {}",
                all.errors,
                all.first_error.as_deref().unwrap_or("-")
            ),
        );
    }
    Ok(acked)
}
