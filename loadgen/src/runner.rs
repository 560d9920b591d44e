//! The `run` subcommand: start the server child, run the scenarios, report.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::plan::Plan;
use crate::procfs::{self, CpuSnapshot, CpuUse, MachineSnapshot, MachineUse};
use crate::{idle, parse_flags, parse_num, relay, tickets};

const TASKSET: &str = "/usr/bin/taskset";
/// The whole run, seeding included, ends by then whatever happens.
const WATCHDOG: Duration = Duration::from_secs(175);
/// Seeding plus start-up.
const READY_TIMEOUT: Duration = Duration::from_secs(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    All,
    Relay,
    Idle,
    Tickets,
}

/// What `run` measures.
pub struct Options {
    scenario: Scenario,
    seconds: u64,
    rate: u32,
    settle: u64,
    phases: RelayPhases,
    pairs: usize,
    idle: usize,
    creators: usize,
    agents: usize,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut o = Options {
            scenario: Scenario::All,
            seconds: 10,
            rate: 50,
            settle: 10,
            phases: RelayPhases {
                saturation: true,
                latency: true,
            },
            pairs: 100,
            idle: 10_000,
            creators: 100,
            agents: 10,
        };
        parse_flags(args, |k, v| {
            match k {
                "--scenario" => {
                    o.scenario = match v {
                        "all" => Scenario::All,
                        "relay" => Scenario::Relay,
                        "idle" => Scenario::Idle,
                        "tickets" => Scenario::Tickets,
                        _ => bail!("unknown scenario `{v}` (relay, idle, tickets or all)"),
                    }
                }
                "--seconds" => o.seconds = parse_num(k, v)?,
                "--rate" => o.rate = parse_num(k, v)?,
                "--settle" => o.settle = parse_num(k, v)?,
                "--phases" => {
                    o.phases = match v {
                        "both" => RelayPhases {
                            saturation: true,
                            latency: true,
                        },
                        "saturation" => RelayPhases {
                            saturation: true,
                            latency: false,
                        },
                        "latency" => RelayPhases {
                            saturation: false,
                            latency: true,
                        },
                        _ => bail!("unknown relay phases `{v}` (both, saturation or latency)"),
                    }
                }
                "--pairs" => o.pairs = parse_num(k, v)?,
                "--idle" => o.idle = parse_num(k, v)?,
                "--creators" => o.creators = parse_num(k, v)?,
                "--agents" => o.agents = parse_num(k, v)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if !(1..=30).contains(&o.seconds) {
            bail!("`--seconds` must be 1..=30 (the whole run must stay bounded)");
        }
        if o.settle > 30 {
            bail!("`--settle` must be 0..=30 seconds");
        }
        if !(1..=1000).contains(&o.rate) {
            bail!("`--rate` (paced sends per second per customer) must be 1..=1000");
        }
        if o.pairs > 1000 || o.idle > 15_000 || o.creators > 1000 || o.agents > 100 {
            bail!("counts too large: at most 1000 pairs, 15000 idle, 1000 creators, 100 agents");
        }
        Ok(o)
    }

    fn wants(&self, s: Scenario) -> bool {
        self.scenario == Scenario::All || self.scenario == s
    }
}

/// Rows of the results table.
#[derive(Default)]
pub struct Report {
    rows: Vec<(String, String, String)>,
    notes: Vec<String>,
    failed: bool,
}

impl Report {
    pub fn row(&mut self, scenario: &str, metric: &str, value: impl Into<String>) {
        self.rows
            .push((scenario.to_owned(), metric.to_owned(), value.into()));
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// A check that failed (lost messages, missing events, failed scenario).
    pub fn fail(&mut self, scenario: &str, what: impl Into<String>) {
        self.failed = true;
        self.row(scenario, "FAILED", what);
    }

    fn print(&self) {
        let w0 = self
            .rows
            .iter()
            .map(|r| r.0.len())
            .max()
            .unwrap_or(0)
            .max(8);
        let w1 = self
            .rows
            .iter()
            .map(|r| r.1.len())
            .max()
            .unwrap_or(0)
            .max(6);
        println!();
        println!("== Results ==");
        println!("{:w0$}  {:w1$}  value", "scenario", "metric");
        println!("{}", "-".repeat(w0 + w1 + 40));
        let mut last = "";
        for (s, m, v) in &self.rows {
            let shown = if s == last { "" } else { s.as_str() };
            println!("{shown:w0$}  {m:w1$}  {v}");
            last = s;
        }
        if !self.notes.is_empty() {
            println!();
            for n in &self.notes {
                println!("note: {n}");
            }
        }
    }
}

/// CPU counters of the server, the load generator and the whole machine.
pub struct Cpus {
    server: CpuSnapshot,
    client: CpuSnapshot,
    machine: MachineSnapshot,
}

/// What the scenarios share: the plan and the two processes to observe.
pub struct Env {
    pub plan: Plan,
    pub hz: u64,
    pub seconds: u64,
    /// Relay latency phase: sends per second per customer.
    pub rate: u32,
    /// Seconds of quiet between the relay's saturation and latency phases.
    pub settle: u64,
    /// Which relay phases run.
    pub phases: RelayPhases,
}

/// The relay phases to run (`--phases both|saturation|latency`).
#[derive(Debug, Clone, Copy)]
pub struct RelayPhases {
    /// The saturation phase (a window of unacknowledged sends).
    pub saturation: bool,
    /// The paced latency phase.
    pub latency: bool,
}

impl Env {
    /// Server, load-generator and machine-wide CPU snapshots.
    pub fn cpu(&self) -> Cpus {
        let me = std::process::id();
        Cpus {
            server: CpuSnapshot::take(self.plan.pid),
            client: CpuSnapshot::take(me),
            machine: MachineSnapshot::take(&[self.plan.pid, me]),
        }
    }

    /// `server 98% (…); loadgen 40%` between two snapshots; for a window
    /// meant to saturate the server, also a note on what limited it.
    pub fn cpu_rows(
        &self,
        report: &mut Report,
        scenario: &str,
        a: &Cpus,
        b: &Cpus,
        saturating: bool,
    ) {
        let server = CpuUse::between(&a.server, &b.server, self.hz);
        let client = CpuUse::between(&a.client, &b.client, self.hz);
        let wall = b.server.at().saturating_duration_since(a.server.at());
        let machine = MachineUse::between(&a.machine, &b.machine, self.hz, wall);
        report.row(scenario, "  server CPU (of one core)", server.describe());
        report.row(
            scenario,
            "  loadgen CPU (of one core)",
            format!("{:.0}%", client.percent),
        );
        let top: Vec<String> = machine
            .top
            .iter()
            .map(|(n, p)| format!("{n} {p:.0}%"))
            .collect();
        // Busy time neither process nor softirq accounts for: other
        // processes, including ones that ended during the window.
        let unaccounted =
            (machine.busy - server.percent - client.percent - machine.softirq).max(0.0);
        let others = machine.others.max(unaccounted);
        report.row(
            scenario,
            "  other processes (of one core)",
            format!(
                "~{others:.0}% ({}); softirq {:.0}%; iowait {:.0}%; machine busy {:.0}% of 200%",
                if top.is_empty() {
                    "-".to_owned()
                } else {
                    top.join(", ")
                },
                machine.softirq,
                machine.iowait,
                machine.busy
            ),
        );
        let busiest = server
            .top_threads
            .first()
            .map_or_else(String::new, |(n, p)| {
                format!("; busiest thread `{n}` at {p:.0}%")
            });
        if others >= 20.0 {
            report.note(format!(
                "{scenario}: other processes used ~{others:.0}% of a core meanwhile (the machine was not quiet; numbers perturbed)"
            ));
        }
        if !saturating {
            return;
        }
        if client.percent >= 90.0 {
            report.note(format!(
                "{scenario}: the load generator used {:.0}% of its core and may itself be the limit",
                client.percent
            ));
        } else if server.percent >= 90.0 {
            report.note(format!(
                "{scenario}: server CPU-bound ({:.0}% of its one core{busiest}); the load generator had headroom ({:.0}%)",
                server.percent, client.percent
            ));
        } else {
            report.note(format!(
                "{scenario}: neither process saturated its core (server {:.0}%, loadgen {:.0}%){busiest}: waiting (commit latency, queueing) rather than CPU",
                server.percent, client.percent
            ));
        }
    }

    pub fn server_rss_kib(&self) -> u64 {
        procfs::rss_kib(self.plan.pid).unwrap_or(0)
    }
}

/// The server child; killed when dropped unless it already exited.
struct ServerChild {
    child: Arc<Mutex<Option<Child>>>,
}

impl ServerChild {
    /// Closes its stdin (asking it to shut down) and waits up to `patience`,
    /// then kills it.
    fn stop(&self, patience: Duration) -> String {
        let mut guard = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let Some(child) = guard.as_mut() else {
            return "already gone".to_owned();
        };
        drop(child.stdin.take());
        let deadline = Instant::now() + patience;
        let outcome = loop {
            match child.try_wait() {
                Ok(Some(status)) => break format!("exited ({status})"),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break "killed after not exiting in time".to_owned();
                }
            }
        };
        *guard = None;
        outcome
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        let mut guard = self.child.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut child) = guard.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

enum Line {
    Ready(u16),
    Stats(String),
}

pub fn main(o: Options) -> Result<()> {
    let started = Instant::now();
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    // Pin this process before any other thread exists: threads started later
    // (the runtime, the helpers) inherit the affinity.
    let pinned = cpus >= 2
        && Path::new(TASKSET).exists()
        && Command::new(TASKSET)
            .args(["-p", "-c", "1", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    println!("neurochat-loadgen: {cpus} CPUs");
    if pinned {
        println!(
            "pinning: server -> core 0 (taskset -c 0), loadgen -> core 1 (taskset -p -c 1 on itself)"
        );
    } else {
        println!("pinning: none (needs {TASKSET} and 2 CPUs); server and loadgen share the CPUs");
    }

    let dir = std::env::temp_dir().join(format!("neurochat-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let dir = TempDir(dir);
    let db = dir.0.join("load.db");
    let plan_path = dir.0.join("plan.json");

    let n = |s: Scenario, v: usize| if o.wants(s) { v } else { 0 };
    let exe = std::env::current_exe().context("locating this executable")?;
    let mut cmd = if pinned {
        let mut c = Command::new(TASKSET);
        c.args(["-c", "0"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    cmd.arg("server")
        .arg("--db")
        .arg(&db)
        .arg("--plan")
        .arg(&plan_path)
        .args(["--seed-pairs", &n(Scenario::Relay, o.pairs).to_string()])
        .args(["--seed-idle", &n(Scenario::Idle, o.idle).to_string()])
        .args([
            "--seed-creators",
            &n(Scenario::Tickets, o.creators).to_string(),
        ])
        .args(["--seed-agents", &n(Scenario::Tickets, o.agents).to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().context("starting the server child")?;
    let stdout = child.stdout.take().context("server stdout")?;
    let server = ServerChild {
        child: Arc::new(Mutex::new(Some(child))),
    };

    // Watchdog: whatever hangs, the run ends and the child dies.
    let finished = Arc::new(AtomicBool::new(false));
    {
        let finished = finished.clone();
        let child = server.child.clone();
        std::thread::spawn(move || {
            while started.elapsed() < WATCHDOG {
                if finished.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            eprintln!("neurochat-loadgen: watchdog: run exceeded {WATCHDOG:?}, killing the server");
            if let Some(mut c) = child.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = c.kill();
                let _ = c.wait();
            }
            std::process::exit(3);
        });
    }

    // The server's stdout: echo its lines, pick out READY and STATS.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line.strip_prefix("READY ") {
                let _ = tx.send(Line::Ready(port.trim().parse().unwrap_or(0)));
            } else if let Some(stats) = line.strip_prefix("STATS ") {
                let _ = tx.send(Line::Stats(stats.to_owned()));
            } else {
                println!("[server] {line}");
            }
        }
    });
    let port = match rx.recv_timeout(READY_TIMEOUT) {
        Ok(Line::Ready(p)) => p,
        _ => bail!("the server did not print READY within {READY_TIMEOUT:?}"),
    };
    let plan = Plan::load(&plan_path)?;
    if plan.port != port {
        bail!("READY port {port} does not match the plan's {}", plan.port);
    }
    println!(
        "server ready on 127.0.0.1:{port} (pid {}) after {:.1} s",
        plan.pid,
        started.elapsed().as_secs_f64()
    );

    let env = Env {
        plan,
        hz: procfs::clk_tck(),
        seconds: o.seconds,
        rate: o.rate,
        settle: o.settle,
        phases: o.phases,
    };
    let mut report = Report::default();
    report.row(
        "setup",
        "pinning",
        if pinned {
            "server core 0, loadgen core 1"
        } else {
            "none"
        },
    );
    report.row("setup", "load average at start", loadavg());
    report.row(
        "setup",
        "server RSS after seeding",
        format!("{:.1} MiB", env.server_rss_kib() as f64 / 1024.0),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        // Idle first: its memory baseline is then the freshly seeded server.
        if o.wants(Scenario::Idle) {
            println!("-- idle: opening {} connections", env.plan.idle.len());
            if let Err(e) = idle::run(&env, &mut report).await {
                report.fail("idle", format!("{e:#}"));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if o.wants(Scenario::Relay) {
            println!("-- relay: {} pairs", env.plan.pairs.len());
            if let Err(e) = relay::run(&env, &mut report).await {
                report.fail("relay", format!("{e:#}"));
            }
        }
        if o.wants(Scenario::Tickets) {
            println!(
                "-- tickets: {} creators, {} inbox agents",
                env.plan.creators.len(),
                env.plan.inbox_agents.len()
            );
            if let Err(e) = tickets::run(&env, &mut report).await {
                report.fail("tickets", format!("{e:#}"));
            }
        }
    });
    drop(rt);

    report.row(
        "end",
        "server peak RSS (VmHWM)",
        procfs::hwm_kib(env.plan.pid).map_or_else(
            || "n/a".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        ),
    );
    let outcome = server.stop(Duration::from_secs(10));
    let stats = loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(Line::Stats(s)) => break Some(s),
            Ok(Line::Ready(_)) => {}
            Err(_) => break None,
        }
    };
    report.row(
        "end",
        "server shutdown",
        format!(
            "{outcome}; gateway {}",
            stats.unwrap_or_else(|| "stats n/a".to_owned())
        ),
    );
    report.row("end", "load average at end", loadavg());
    report.row(
        "end",
        "total run time",
        format!("{:.1} s", started.elapsed().as_secs_f64()),
    );
    finished.store(true, Ordering::Relaxed);
    report.print();
    drop(server);
    drop(dir);
    if report.failed {
        bail!("some checks failed (see FAILED rows)");
    }
    Ok(())
}

/// `/proc/loadavg`'s 1, 5 and 15 minute averages.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".to_owned())
}

/// `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
