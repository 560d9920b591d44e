//! Reading a process's memory and CPU use from `/proc`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// `VmRSS` of a process, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmRSS:")
}

/// `VmHWM` (peak RSS) of a process, in KiB.
pub fn hwm_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmHWM:")
}

fn status_field(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// `utime + stime` in clock ticks from a `stat` file's text, and the `comm`.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 2..)?.split(' ').collect();
    // Fields after `comm`: state is field 3, utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// CPU counters of the whole machine: `/proc/stat` and every process.
#[derive(Debug, Clone)]
pub struct MachineSnapshot {
    /// Busy (non-idle, non-iowait) ticks of all CPUs together.
    busy: u64,
    /// Of which in softirq (loopback networking, block I/O completion).
    softirq: u64,
    /// Idle ticks with I/O outstanding.
    iowait: u64,
    /// Every other process: pid → (comm, utime + stime).
    processes: HashMap<u32, (String, u64)>,
}

impl MachineSnapshot {
    /// Snapshots the machine, leaving out the processes in `exclude`.
    pub fn take(exclude: &[u32]) -> MachineSnapshot {
        let mut busy = 0;
        let mut softirq = 0;
        let mut iowait = 0;
        if let Ok(stat) = std::fs::read_to_string("/proc/stat")
            && let Some(line) = stat.lines().find(|l| l.starts_with("cpu "))
        {
            // user nice system idle iowait irq softirq steal
            for (i, v) in line.split_whitespace().skip(1).take(8).enumerate() {
                let v: u64 = v.parse().unwrap_or(0);
                if i != 3 && i != 4 {
                    busy += v;
                }
                if i == 4 {
                    iowait = v;
                }
                if i == 6 {
                    softirq = v;
                }
            }
        }
        let mut processes = HashMap::new();
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let Some(pid) = entry
                    .file_name()
                    .to_str()
                    .and_then(|s| s.parse::<u32>().ok())
                else {
                    continue;
                };
                if exclude.contains(&pid) {
                    continue;
                }
                if let Some(t) = std::fs::read_to_string(entry.path().join("stat"))
                    .ok()
                    .and_then(|s| parse_stat(&s))
                {
                    processes.insert(pid, t);
                }
            }
        }
        MachineSnapshot {
            busy,
            softirq,
            iowait,
            processes,
        }
    }
}

/// Machine CPU used between two snapshots, in percent of one core.
#[derive(Debug, Clone)]
pub struct MachineUse {
    pub busy: f64,
    pub softirq: f64,
    pub iowait: f64,
    /// Every process other than the excluded ones that was still alive at
    /// the second snapshot (processes that ended meanwhile are missed).
    pub others: f64,
    /// The busiest of them by name.
    pub top: Vec<(String, f64)>,
}

impl MachineUse {
    pub fn between(
        a: &MachineSnapshot,
        b: &MachineSnapshot,
        hz: u64,
        wall: Duration,
    ) -> MachineUse {
        let pct = |ticks: u64| ticks as f64 / hz as f64 / wall.as_secs_f64().max(1e-3) * 100.0;
        let mut by_name: HashMap<&str, u64> = HashMap::new();
        let mut others = 0;
        for (pid, (comm, t)) in &b.processes {
            // A process started meanwhile counts from zero.
            let d = t.saturating_sub(a.processes.get(pid).map_or(0, |(_, t)| *t));
            others += d;
            *by_name.entry(comm.as_str()).or_default() += d;
        }
        let mut top: Vec<(String, f64)> = by_name
            .into_iter()
            .filter(|(_, t)| *t > 0)
            .map(|(n, t)| (n.to_owned(), pct(t)))
            .collect();
        top.sort_by(|x, y| y.1.total_cmp(&x.1));
        top.truncate(3);
        MachineUse {
            busy: pct(b.busy.saturating_sub(a.busy)),
            softirq: pct(b.softirq.saturating_sub(a.softirq)),
            iowait: pct(b.iowait.saturating_sub(a.iowait)),
            others: pct(others),
            top,
        }
    }
}

/// The clock-tick rate of `/proc/*/stat` times.
pub fn clk_tck() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// CPU time of a process and of each of its threads at one instant.
#[derive(Debug, Clone)]
pub struct CpuSnapshot {
    at: Instant,
    total: u64,
    threads: HashMap<u32, (String, u64)>,
}

impl CpuSnapshot {
    pub fn at(&self) -> Instant {
        self.at
    }

    pub fn take(pid: u32) -> CpuSnapshot {
        let total = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| parse_stat(&s))
            .map_or(0, |(_, t)| t);
        let mut threads = HashMap::new();
        if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for entry in dir.flatten() {
                let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                    continue;
                };
                if let Some(t) = std::fs::read_to_string(entry.path().join("stat"))
                    .ok()
                    .and_then(|s| parse_stat(&s))
                {
                    threads.insert(tid, t);
                }
            }
        }
        CpuSnapshot {
            at: Instant::now(),
            total,
            threads,
        }
    }
}

/// CPU used between two snapshots.
#[derive(Debug, Clone)]
pub struct CpuUse {
    /// Percent of one core.
    pub percent: f64,
    /// The busiest threads: name and percent of one core.
    pub top_threads: Vec<(String, f64)>,
}

impl CpuUse {
    pub fn between(a: &CpuSnapshot, b: &CpuSnapshot, hz: u64) -> CpuUse {
        let wall =
            b.at.saturating_duration_since(a.at)
                .max(Duration::from_millis(1));
        let pct = |ticks: u64| ticks as f64 / hz as f64 / wall.as_secs_f64() * 100.0;
        // Threads with the same name (e.g. sqlx workers) are added up.
        let mut by_name: HashMap<String, u64> = HashMap::new();
        for (tid, (comm, t)) in &b.threads {
            let before = a.threads.get(tid).map_or(0, |(_, t)| *t);
            *by_name.entry(comm.clone()).or_default() += t.saturating_sub(before);
        }
        let mut top: Vec<(String, f64)> = by_name
            .into_iter()
            .filter(|(_, t)| *t > 0)
            .map(|(n, t)| (n, pct(t)))
            .collect();
        top.sort_by(|x, y| y.1.total_cmp(&x.1));
        top.truncate(4);
        CpuUse {
            percent: pct(b.total.saturating_sub(a.total)),
            top_threads: top,
        }
    }

    /// `87% (tokio-runtime-w 60%, sqlx-sqlite-wor 25%)`.
    pub fn describe(&self) -> String {
        let threads: Vec<String> = self
            .top_threads
            .iter()
            .map(|(n, p)| format!("{n} {p:.0}%"))
            .collect();
        if threads.is_empty() {
            format!("{:.0}%", self.percent)
        } else {
            format!("{:.0}% ({})", self.percent, threads.join(", "))
        }
    }
}
