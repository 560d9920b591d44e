//! Relay: customer/agent pairs on their own tickets; customers send, agents
//! receive. A saturation phase (window of unacknowledged sends) and a paced
//! latency phase over the same connections.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use neurochat_protocol::v1::{ClientFrame, ServerFrame};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;

use crate::plan::Pair;
use crate::runner::{Env, Report, thousands};
use crate::wire::{self, Kind, Ws};

/// Unacknowledged sends per customer in the saturation phase.
const WINDOW: u32 = 64;
/// How long after the send window the tail may take to arrive.
const TAIL: Duration = Duration::from_secs(10);
/// Seqs tracked per ticket (far more than a run can send).
const MAX_SLOTS: u64 = 1 << 22;
/// Slot bits: acknowledged to the customer; the low bits count agent receipts.
const ACKED: u8 = 0x80;
const COUNT: u8 = 0x7f;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhaseKind {
    Saturate,
    Paced,
}

#[derive(Debug, Clone, Copy)]
struct Phase {
    kind: PhaseKind,
    number: u8,
    start: Instant,
    send_until: Instant,
    tail_until: Instant,
    /// Paced phase: sends per second per customer.
    rate: u32,
}

#[derive(Debug, Clone, Copy)]
enum Ctrl {
    Wait,
    Run(Phase),
    Stop,
}

/// One pair's account of one phase.
#[derive(Debug, Default)]
struct PhaseStats {
    sent: u64,
    acked: u64,
    acked_in_window: u64,
    errors: u64,
    received: u64,
    received_in_window: u64,
    lost: u64,
    duplicated: u64,
    skipped_ticks: u64,
    tail_incomplete: u64,
    latencies_ns: Vec<u64>,
    /// When each of `latencies_ns` was sent (ns from the run's start).
    sent_ns: Vec<u64>,
    /// Paced sends that fired at least 1 ms late: `(fired_ns, late_ns)`.
    late_ticks: Vec<(u64, u64)>,
    first_error: Option<String>,
}

impl PhaseStats {
    fn merge(&mut self, o: PhaseStats) {
        self.sent += o.sent;
        self.acked += o.acked;
        self.acked_in_window += o.acked_in_window;
        self.errors += o.errors;
        self.received += o.received;
        self.received_in_window += o.received_in_window;
        self.lost += o.lost;
        self.duplicated += o.duplicated;
        self.skipped_ticks += o.skipped_ticks;
        self.tail_incomplete += o.tail_incomplete;
        self.latencies_ns.extend(o.latencies_ns);
        self.sent_ns.extend(o.sent_ns);
        self.late_ticks.extend(o.late_ticks);
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
    }
}

/// One pair's account of the whole run (both phases).
#[derive(Debug, Default)]
struct PairEnd {
    lost: u64,
    duplicated: u64,
    never_acked: u64,
    out_of_order: u64,
    bogus: u64,
    echoes: u64,
    other_frames: u64,
}

/// Per-ticket bookkeeping of one pair.
struct Tracker {
    /// This pair's place among `pairs`, to stagger the paced sends.
    index: u32,
    pairs: u32,
    ticket: String,
    clock: Instant,
    req: u64,
    base: u64,
    slots: Vec<u8>,
    /// Acknowledged seqs the agent has not received yet.
    pending: u64,
    last_agent_seq: u64,
    acked_this_phase: Vec<u64>,
    out_of_order: u64,
    bogus: u64,
    echoes: u64,
    other_frames: u64,
    checked_ack: bool,
    checked_message: bool,
}

impl Tracker {
    fn slot(&mut self, seq: u64) -> Option<&mut u8> {
        let i = seq.checked_sub(self.base)?;
        if i >= MAX_SLOTS {
            return None;
        }
        let i = usize::try_from(i).ok()?;
        if i >= self.slots.len() {
            let len = (i + 1).max(self.slots.len() * 2);
            self.slots.resize(len, 0);
        }
        self.slots.get_mut(i)
    }

    fn acked(&mut self, seq: u64) {
        match self.slot(seq) {
            Some(b) if *b & ACKED == 0 => {
                *b |= ACKED;
                let unseen = *b & COUNT == 0;
                self.acked_this_phase.push(seq);
                if unseen {
                    self.pending += 1;
                }
            }
            _ => self.bogus += 1,
        }
    }

    fn received(&mut self, seq: u64) {
        if seq <= self.last_agent_seq {
            self.out_of_order += 1;
        }
        self.last_agent_seq = self.last_agent_seq.max(seq);
        match self.slot(seq) {
            Some(b) => {
                let count = *b & COUNT;
                if count < COUNT {
                    *b += 1;
                }
                let was_pending = count == 0 && *b & ACKED != 0;
                if was_pending {
                    self.pending -= 1;
                }
            }
            None => self.bogus += 1,
        }
    }

    fn send_frame(&mut self, phase: u8) -> Message {
        self.req += 1;
        let ns = self.clock.elapsed().as_nanos();
        wire::text(format!(
            r#"{{"type":"send","req":{},"ticket_id":"{}","client_msg_id":"p{}-{}","body":"{:020} relay load test message"}}"#,
            self.req, self.ticket, phase, self.req, ns
        ))
    }

    /// A frame on the customer's connection.
    fn on_customer(
        &mut self,
        m: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
        ph: &Phase,
        s: &mut PhaseStats,
        inflight: &mut u32,
    ) -> Result<()> {
        let t = match m {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(c))) => {
                bail!(
                    "customer closed by server: {}",
                    wire::close_reason(c.as_ref())
                )
            }
            Some(Ok(_)) => return Ok(()),
            Some(Err(e)) => bail!("customer connection: {e}"),
            None => bail!("customer connection ended"),
        };
        let t = t.as_str();
        match wire::kind(t) {
            Kind::Ack => {
                let seq = wire::num_after(t, r#""seq":"#)
                    .ok_or_else(|| anyhow!("ack without seq: {}", wire::short(t)))?;
                if !self.checked_ack {
                    self.checked_ack = true;
                    match serde_json::from_str::<ServerFrame>(t) {
                        Ok(ServerFrame::Ack { seq: Some(s), .. }) if s == seq => {}
                        _ => bail!("quick reading disagrees with the ack {}", wire::short(t)),
                    }
                }
                self.acked(seq);
                *inflight = inflight.saturating_sub(1);
                s.acked += 1;
                if Instant::now() < ph.send_until {
                    s.acked_in_window += 1;
                }
            }
            Kind::Error => {
                s.errors += 1;
                if s.first_error.is_none() {
                    s.first_error = Some(wire::short(t));
                }
                if wire::num_after(t, r#""req":"#).is_some() {
                    *inflight = inflight.saturating_sub(1);
                }
            }
            Kind::Message => self.echoes += 1,
            _ => self.other_frames += 1,
        }
        Ok(())
    }

    /// A frame on the agent's connection.
    fn on_agent(
        &mut self,
        m: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
        ph: &Phase,
        s: &mut PhaseStats,
    ) -> Result<()> {
        let now = Instant::now();
        let t = match m {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(c))) => {
                bail!("agent closed by server: {}", wire::close_reason(c.as_ref()))
            }
            Some(Ok(_)) => return Ok(()),
            Some(Err(e)) => bail!("agent connection: {e}"),
            None => bail!("agent connection ended"),
        };
        let t = t.as_str();
        if wire::kind(t) != Kind::Message {
            self.other_frames += 1;
            return Ok(());
        }
        let seq = wire::num_after(t, r#""seq":"#);
        let ticket = wire::str_after(t, r#""ticket_id":""#);
        let sent_ns = wire::num_after(t, r#""body":""#);
        let (Some(seq), Some(ticket), Some(sent_ns)) = (seq, ticket, sent_ns) else {
            bail!("unexpected message frame: {}", wire::short(t));
        };
        if ticket != self.ticket {
            bail!("agent got a message of another ticket: {}", wire::short(t));
        }
        if !self.checked_message {
            self.checked_message = true;
            match serde_json::from_str::<ServerFrame>(t) {
                Ok(ServerFrame::Message { message })
                    if message.seq == seq
                        && message.ticket_id.to_string() == ticket
                        && message.body.starts_with(&format!("{sent_ns:020}")) => {}
                _ => bail!(
                    "quick reading disagrees with the message {}",
                    wire::short(t)
                ),
            }
        }
        self.received(seq);
        s.received += 1;
        if now < ph.send_until {
            s.received_in_window += 1;
        }
        if ph.kind == PhaseKind::Paced {
            let now_ns = u64::try_from(now.duration_since(self.clock).as_nanos()).unwrap_or(0);
            s.latencies_ns.push(now_ns.saturating_sub(sent_ns));
            s.sent_ns.push(sent_ns);
        }
        Ok(())
    }

    async fn run_phase(&mut self, cust: &mut Ws, agent: &mut Ws, ph: Phase) -> (PhaseStats, bool) {
        let mut s = PhaseStats::default();
        self.acked_this_phase.clear();
        let mut inflight: u32 = 0;
        // Spread the paced sends of all pairs evenly over the period.
        let period = Duration::from_secs(1) / ph.rate.max(1);
        let offset = period * self.index / self.pairs.max(1);
        let mut tick = tokio::time::interval_at((ph.start + offset).into(), period);
        tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
        tokio::time::sleep_until(ph.start.into()).await;
        let deadline = tokio::time::sleep_until(ph.send_until.into());
        tokio::pin!(deadline);
        let mut sending = true;
        let mut alive = true;
        loop {
            if sending && Instant::now() >= ph.send_until {
                sending = false;
                deadline.as_mut().reset(ph.tail_until.into());
            }
            if sending && ph.kind == PhaseKind::Saturate && inflight < WINDOW {
                let mut r = Ok(());
                while inflight < WINDOW && r.is_ok() {
                    r = cust.feed(self.send_frame(ph.number)).await;
                    inflight += 1;
                    s.sent += 1;
                }
                if let Err(e) = r.and(cust.flush().await) {
                    s.first_error = Some(format!("customer send: {e}"));
                    alive = false;
                    break;
                }
            }
            if !sending && inflight == 0 && self.pending == 0 {
                break;
            }
            if !sending && Instant::now() >= ph.tail_until {
                s.tail_incomplete = 1;
                break;
            }
            let step = tokio::select! {
                m = agent.next() => self.on_agent(m, &ph, &mut s),
                m = cust.next() => self.on_customer(m, &ph, &mut s, &mut inflight),
                due = tick.tick(), if sending && ph.kind == PhaseKind::Paced => {
                    let late = Instant::now().saturating_duration_since(due.into_std());
                    if late >= Duration::from_millis(1) {
                        s.late_ticks.push((
                            u64::try_from(self.clock.elapsed().as_nanos()).unwrap_or(u64::MAX),
                            u64::try_from(late.as_nanos()).unwrap_or(u64::MAX),
                        ));
                    }
                    if inflight < WINDOW {
                        inflight += 1;
                        s.sent += 1;
                        let frame = self.send_frame(ph.number);
                        cust.send(frame).await.map_err(|e| anyhow!("customer send: {e}"))
                    } else {
                        s.skipped_ticks += 1;
                        Ok(())
                    }
                }
                () = &mut deadline => Ok(()),
            };
            if let Err(e) = step {
                s.first_error = Some(format!("{e:#}"));
                alive = false;
                break;
            }
        }
        for seq in std::mem::take(&mut self.acked_this_phase) {
            match self.slot(seq).map(|b| *b & COUNT) {
                Some(0) => s.lost += 1,
                Some(1) => {}
                _ => s.duplicated += 1,
            }
        }
        (s, alive)
    }

    fn end(&self) -> PairEnd {
        let mut e = PairEnd {
            out_of_order: self.out_of_order,
            bogus: self.bogus,
            echoes: self.echoes,
            other_frames: self.other_frames,
            ..PairEnd::default()
        };
        for b in &self.slots {
            let count = b & COUNT;
            match (b & ACKED != 0, count) {
                (true, 0) => e.lost += 1,
                (false, 1..) => e.never_acked += 1,
                (_, 2..) => e.duplicated += 1,
                _ => {}
            }
        }
        e
    }
}

async fn connect_pair(port: u16, pair: &Pair) -> Result<(Ws, Ws)> {
    let subscribe = ClientFrame::Subscribe {
        req: 1,
        ticket_id: pair.ticket,
        last_seq: pair.last_seq,
    };
    let mut agent = wire::connect(port, &pair.agent, true).await?;
    wire::request(&mut agent, &subscribe).await?;
    let mut cust = wire::connect(port, &pair.customer, true).await?;
    wire::request(&mut cust, &subscribe).await?;
    Ok((cust, agent))
}

#[allow(clippy::too_many_arguments)]
async fn pair_task(
    index: usize,
    pair: Pair,
    port: u16,
    clock: Instant,
    mut ctrl: watch::Receiver<Ctrl>,
    ready: mpsc::Sender<Result<()>>,
    done: mpsc::Sender<PhaseStats>,
    pairs: usize,
) -> PairEnd {
    let (mut cust, mut agent) = match connect_pair(port, &pair).await {
        Ok(c) => {
            let _ = ready.send(Ok(())).await;
            c
        }
        Err(e) => {
            let _ = ready.send(Err(e)).await;
            return PairEnd::default();
        }
    };
    let mut p = Tracker {
        index: u32::try_from(index).unwrap_or(0),
        pairs: u32::try_from(pairs).unwrap_or(1),
        ticket: pair.ticket.to_string(),
        clock,
        req: 1,
        base: pair.last_seq + 1,
        slots: Vec::new(),
        pending: 0,
        last_agent_seq: pair.last_seq,
        acked_this_phase: Vec::new(),
        out_of_order: 0,
        bogus: 0,
        echoes: 0,
        other_frames: 0,
        checked_ack: false,
        checked_message: false,
    };
    let mut alive = true;
    // The phase that ran last: between phases both connections keep being
    // read (the customer's echoes of its own messages trail the acks), so
    // no backlog is left in the socket for the next phase to wade through
    // on its clock.
    let mut last: Option<Phase> = None;
    let mut between = PhaseStats::default();
    loop {
        let changed = match last {
            Some(ph) if alive => tokio::select! {
                changed = ctrl.changed() => changed,
                m = cust.next() => {
                    let mut inflight = 0;
                    alive = p.on_customer(m, &ph, &mut between, &mut inflight).is_ok();
                    continue;
                }
                m = agent.next() => {
                    alive = p.on_agent(m, &ph, &mut between).is_ok();
                    continue;
                }
            },
            _ => ctrl.changed().await,
        };
        if changed.is_err() {
            break;
        }
        let c = *ctrl.borrow_and_update();
        match c {
            Ctrl::Wait => {}
            Ctrl::Stop => break,
            Ctrl::Run(ph) => {
                let stats = if alive {
                    let (s, ok) = p.run_phase(&mut cust, &mut agent, ph).await;
                    alive = ok;
                    s
                } else {
                    PhaseStats {
                        first_error: Some("connection lost in an earlier phase".to_owned()),
                        ..PhaseStats::default()
                    }
                };
                last = Some(ph);
                let _ = done.send(stats).await;
            }
        }
    }
    p.end()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(ns: u64) -> String {
    format!("{:.2} ms", ns as f64 / 1e6)
}

pub async fn run(env: &Env, report: &mut Report) -> Result<()> {
    let n = env.plan.pairs.len();
    if n == 0 {
        bail!("no pairs seeded");
    }
    let secs = env.seconds;
    let clock = Instant::now();
    crate::timeline::mark_start(clock);
    let (ctrl_tx, ctrl_rx) = watch::channel(Ctrl::Wait);
    let (ready_tx, mut ready_rx) = mpsc::channel(n);
    let (done_tx, mut done_rx) = mpsc::channel(n);
    let mut tasks = JoinSet::new();
    for (i, pair) in env.plan.pairs.iter().enumerate() {
        tasks.spawn(pair_task(
            i,
            pair.clone(),
            env.plan.port,
            clock,
            ctrl_rx.clone(),
            ready_tx.clone(),
            done_tx.clone(),
            n,
        ));
    }
    drop((ctrl_rx, ready_tx, done_tx));
    let setup = Instant::now();
    let result = async {
        for _ in 0..n {
            match tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await {
                Ok(Some(Ok(()))) => {}
                Ok(Some(Err(e))) => return Err(e.context("connecting a pair")),
                _ => bail!("pairs did not connect within 60 s"),
            }
        }
        println!(
            "   {n} pairs connected and subscribed in {:.2} s",
            setup.elapsed().as_secs_f64()
        );
        for (number, kind) in [(1u8, PhaseKind::Saturate), (2, PhaseKind::Paced)] {
            let wanted = match kind {
                PhaseKind::Saturate => env.phases.saturation,
                PhaseKind::Paced => env.phases.latency,
            };
            if !wanted {
                continue;
            }
            if kind == PhaseKind::Paced && env.phases.saturation && env.settle > 0 {
                // After saturation the server still copies the WAL it grew
                // into the database file (checkpoints); the latency phase
                // measures the steady state, not that catching up.
                println!("   settling {} s before the latency phase", env.settle);
                tokio::time::sleep(Duration::from_secs(env.settle)).await;
            }
            let start = Instant::now() + Duration::from_millis(100);
            let ph = Phase {
                kind,
                number,
                start,
                send_until: start + Duration::from_secs(secs),
                tail_until: start + Duration::from_secs(secs) + TAIL,
                rate: env.rate,
            };
            let _ = ctrl_tx.send(Ctrl::Run(ph));
            tokio::time::sleep_until(start.into()).await;
            let cpu0 = env.cpu();
            tokio::time::sleep_until(ph.send_until.into()).await;
            let cpu1 = env.cpu();
            let rss = env.server_rss_kib();
            let mut total = PhaseStats::default();
            let mut reported = 0;
            while reported < n {
                match tokio::time::timeout_at(
                    (ph.tail_until + Duration::from_secs(5)).into(),
                    done_rx.recv(),
                )
                .await
                {
                    Ok(Some(s)) => {
                        total.merge(s);
                        reported += 1;
                    }
                    _ => break,
                }
            }
            phase_rows(
                env, report, kind, n, secs, &total, reported, &cpu0, &cpu1, rss,
            );
            if reported < n {
                bail!("{} pairs did not finish phase {number}", n - reported);
            }
        }
        Ok(())
    }
    .await;
    let _ = ctrl_tx.send(Ctrl::Stop);
    let mut end = PairEnd::default();
    let joined = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(r) = tasks.join_next().await {
            if let Ok(e) = r {
                end.lost += e.lost;
                end.duplicated += e.duplicated;
                end.never_acked += e.never_acked;
                end.out_of_order += e.out_of_order;
                end.bogus += e.bogus;
                end.echoes += e.echoes;
                end.other_frames += e.other_frames;
            }
        }
    })
    .await;
    tasks.abort_all();
    result?;
    if joined.is_err() {
        bail!("pair tasks did not stop within 10 s");
    }
    let verdict = format!(
        "lost {}, duplicated {}, received but never acked {}, out of order {}, bad seq {}",
        end.lost, end.duplicated, end.never_acked, end.out_of_order, end.bogus
    );
    if end.lost + end.duplicated + end.never_acked + end.out_of_order + end.bogus > 0 {
        report.fail("relay", format!("whole run: {verdict}"));
    } else {
        report.row("relay", "whole run: every acked seq exactly once", verdict);
    }
    report.row(
        "relay",
        "customers' own echoes / other frames",
        format!(
            "{} / {}",
            thousands(end.echoes),
            thousands(end.other_frames)
        ),
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn phase_rows(
    env: &Env,
    report: &mut Report,
    kind: PhaseKind,
    n: usize,
    secs: u64,
    s: &PhaseStats,
    reported: usize,
    cpu0: &crate::runner::Cpus,
    cpu1: &crate::runner::Cpus,
    rss_kib: u64,
) {
    let per_s = |x: u64| x as f64 / secs as f64;
    let label = match kind {
        PhaseKind::Saturate => "relay saturation",
        PhaseKind::Paced => "relay latency",
    };
    match kind {
        PhaseKind::Saturate => {
            println!(
                "   saturation: {:.0} msgs/s relayed to agents",
                per_s(s.received_in_window)
            );
            report.row(
                label,
                "relayed to agents (msgs/s)",
                format!(
                    "{:.0}  ({} in {secs} s, {n} pairs, window {WINDOW})",
                    per_s(s.received_in_window),
                    thousands(s.received_in_window)
                ),
            );
            report.row(
                label,
                "acked to customers (msgs/s)",
                format!("{:.0}", per_s(s.acked_in_window)),
            );
        }
        PhaseKind::Paced => {
            let mut lat = s.latencies_ns.clone();
            lat.sort_unstable();
            println!(
                "   latency: p50 {} p99 {} max {} over {} messages",
                ms(percentile(&lat, 0.50)),
                ms(percentile(&lat, 0.99)),
                ms(lat.last().copied().unwrap_or(0)),
                lat.len()
            );
            let target = u64::from(env.rate) * n as u64;
            report.row(
                label,
                "send rate target / achieved",
                format!(
                    "{target} / {:.0} msgs/s  ({} window-full ticks skipped)",
                    per_s(s.sent),
                    s.skipped_ticks
                ),
            );
            report.row(
                label,
                "send -> agent receive p50",
                ms(percentile(&lat, 0.50)),
            );
            report.row(
                label,
                "send -> agent receive p99",
                ms(percentile(&lat, 0.99)),
            );
            report.row(
                label,
                "  (p90 / p99.9, for the shape)",
                format!(
                    "{} / {}",
                    ms(percentile(&lat, 0.90)),
                    ms(percentile(&lat, 0.999))
                ),
            );
            report.row(
                label,
                "send -> agent receive max",
                format!(
                    "{}  ({} samples)",
                    ms(lat.last().copied().unwrap_or(0)),
                    thousands(lat.len() as u64)
                ),
            );
            crate::timeline::report(report, label, &s.sent_ns, &s.latencies_ns, &s.late_ticks);
        }
    }
    report.row(
        label,
        "sent / acked / received (incl. tail)",
        format!(
            "{} / {} / {}",
            thousands(s.sent),
            thousands(s.acked),
            thousands(s.received)
        ),
    );
    let check = format!(
        "lost {}, duplicated {}; tail incomplete on {} of {n} tickets",
        s.lost, s.duplicated, s.tail_incomplete
    );
    if s.lost + s.duplicated + s.tail_incomplete > 0 || reported < n {
        report.fail(label, check);
    } else {
        report.row(label, "per-ticket check after tail", check);
    }
    if s.errors > 0 || s.first_error.is_some() {
        report.fail(
            label,
            format!(
                "{} error replies; first: {}",
                s.errors,
                s.first_error.as_deref().unwrap_or("-")
            ),
        );
    }
    env.cpu_rows(report, label, cpu0, cpu1, kind == PhaseKind::Saturate);
    report.row(
        label,
        "  server RSS at end of window",
        format!("{:.1} MiB", rss_kib as f64 / 1024.0),
    );
}
