//! Where in time the latency phase's slowest messages fell: spread evenly
//! (a busy core queueing work) or bunched into a few moments (a stall, e.g.
//! a WAL restart or an `fsync` the writers waited for).
//!
//! Set `NEUROCHAT_LOADGEN_TIMELINE=PATH` to also get every sample as CSV
//! (`sent_ms,latency_us`, send time from the start of the run). Its first
//! line gives that start as `Instant`'s debug form, which on Linux is the
//! `CLOCK_MONOTONIC` time: `perf record -k mono` traces line up with it.

use std::io::Write as _;
use std::sync::OnceLock;
use std::time::Instant;

use crate::runner::Report;

/// The start of the run that `sent_ns` counts from.
static RUN_START: OnceLock<Instant> = OnceLock::new();

/// Records the start of the run, for the CSV's first line.
pub fn mark_start(start: Instant) {
    let _ = RUN_START.set(start);
}

/// The windows the phase is cut into.
const WINDOW_NS: u64 = 100_000_000;

/// A paced send that fired at least this late counts as a load-generator
/// stall: its thread did not run for that long (its core was taken; on
/// the 2-core VMs this was measured on, the VM's init process takes one
/// core for 5-6 ms about once a second).
pub const STALL_NS: u64 = 2_000_000;

/// After a stall, the sends it held back arrive at the server at once; a
/// slow message whose flight overlaps a stall or this long after it counts
/// as near one.
const AFTER_STALL_NS: u64 = 10_000_000;

/// Adds the bunching rows for the samples `(sent_ns, latency_ns)`, and
/// writes the CSV when asked to. `late_ticks` are `(fired_ns, late_ns)` of
/// the paced sends that fired at least a millisecond late.
pub fn report(
    report: &mut Report,
    label: &str,
    sent_ns: &[u64],
    latency_ns: &[u64],
    late_ticks: &[(u64, u64)],
) {
    if let Ok(path) = std::env::var("NEUROCHAT_LOADGEN_TIMELINE") {
        match write_csv(&path, sent_ns, latency_ns) {
            Ok(()) => println!("   timeline of {} samples written to {path}", sent_ns.len()),
            Err(e) => eprintln!("   timeline not written to {path}: {e}"),
        }
    }
    let Some(b) = bunching(sent_ns, latency_ns) else {
        return;
    };
    report.row(
        label,
        "slowest 1%: in the worst tenth of 100 ms windows",
        format!(
            "{:.0}% of them ({} of {} windows hold any)",
            b.share_in_worst_tenth * 100.0,
            b.windows_with_slow,
            b.windows
        ),
    );
    let stalls = stalls(late_ticks);
    let near = near_stalls(sent_ns, latency_ns, &stalls);
    let span = sent_ns
        .iter()
        .max()
        .zip(sent_ns.iter().min())
        .map_or(0, |(b, a)| b - a);
    report.row(
        label,
        "load generator stalls (sends >= 2 ms late)",
        format!(
            "{} (longest {:.1} ms); they and the 10 ms after each cover {:.0}% of the phase \
             and {:.0}% of the slowest 1%",
            stalls.len(),
            stalls.iter().map(|s| s.1 - s.0).max().unwrap_or(0) as f64 / 1e6,
            covered(&stalls) as f64 * 100.0 / span.max(1) as f64,
            near * 100.0
        ),
    );
}

/// How long the stalls and the [`AFTER_STALL_NS`] after each cover, overlaps
/// counted once: what share of slow messages near a stall chance alone gives.
fn covered(stalls: &[(u64, u64)]) -> u64 {
    let mut total = 0;
    let mut reach = 0;
    for &(a, b) in stalls {
        let (a, b) = (a.max(reach), b + AFTER_STALL_NS);
        if b > a {
            total += b - a;
            reach = b;
        }
    }
    total
}

/// The load generator's stalls, `(start_ns, end_ns)`: late ticks that fired
/// within a millisecond of each other are one stall (every pair's timer
/// fires late after the same pause), as long as its latest tick.
fn stalls(late_ticks: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut ticks: Vec<(u64, u64)> = late_ticks.to_vec();
    ticks.sort_unstable();
    let mut out: Vec<(u64, u64, u64)> = Vec::new(); // (start, end, longest lateness)
    for (fired, late) in ticks {
        match out.last_mut() {
            Some(last) if fired <= last.1 + 1_000_000 => {
                last.1 = last.1.max(fired);
                if late > last.2 {
                    last.2 = late;
                    last.0 = last.0.min(fired.saturating_sub(late));
                }
            }
            _ => out.push((fired.saturating_sub(late), fired, late)),
        }
    }
    out.into_iter()
        .filter(|s| s.2 >= STALL_NS)
        .map(|s| (s.0, s.1))
        .collect()
}

/// The share of the slowest 1% whose flight `[sent, sent + latency]`
/// overlaps a stall or the [`AFTER_STALL_NS`] after it (0 when no sample).
fn near_stalls(sent_ns: &[u64], latency_ns: &[u64], stalls: &[(u64, u64)]) -> f64 {
    let Some(slow) = slowest(sent_ns, latency_ns) else {
        return 0.0;
    };
    let near = slow
        .iter()
        .filter(|&&(s, l)| {
            stalls
                .iter()
                .any(|&(a, b)| s <= b + AFTER_STALL_NS && s + l >= a)
        })
        .count();
    near as f64 / slow.len().max(1) as f64
}

/// `(sent_ns, latency_ns)` of the slowest 1% of the samples (ties at the
/// bound included), or `None` below 100 samples.
fn slowest(sent_ns: &[u64], latency_ns: &[u64]) -> Option<Vec<(u64, u64)>> {
    let n = sent_ns.len().min(latency_ns.len());
    if n < 100 {
        return None;
    }
    let mut sorted: Vec<u64> = latency_ns[..n].to_vec();
    sorted.sort_unstable();
    let threshold = sorted[n - n / 100];
    Some(
        sent_ns[..n]
            .iter()
            .zip(&latency_ns[..n])
            .filter(|&(_, &l)| l >= threshold)
            .map(|(&s, &l)| (s, l))
            .collect(),
    )
}

/// How the slowest 1% of the samples fall into the windows.
#[derive(Debug, PartialEq)]
struct Bunching {
    windows: usize,
    windows_with_slow: usize,
    /// Of the slowest 1%, the share in the tenth of the windows that hold
    /// most of them: ~0.1 if spread evenly, near 1 if bunched.
    share_in_worst_tenth: f64,
}

fn bunching(sent_ns: &[u64], latency_ns: &[u64]) -> Option<Bunching> {
    let slowest = slowest(sent_ns, latency_ns)?;
    let n = sent_ns.len().min(latency_ns.len());
    let first = *sent_ns[..n].iter().min()?;
    let last = *sent_ns[..n].iter().max()?;
    let windows = usize::try_from((last - first) / WINDOW_NS).ok()? + 1;
    let mut slow = vec![0u64; windows];
    for &(s, _) in &slowest {
        slow[usize::try_from((s - first) / WINDOW_NS).ok()?] += 1;
    }
    let total = slowest.len() as u64;
    let windows_with_slow = slow.iter().filter(|&&c| c > 0).count();
    slow.sort_unstable_by(|a, b| b.cmp(a));
    let tenth = windows.div_ceil(10);
    let in_worst: u64 = slow[..tenth].iter().sum();
    Some(Bunching {
        windows,
        windows_with_slow,
        share_in_worst_tenth: in_worst as f64 / total.max(1) as f64,
    })
}

fn write_csv(path: &str, sent_ns: &[u64], latency_ns: &[u64]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    if let Some(start) = RUN_START.get() {
        writeln!(out, "# run start: {start:?}")?;
    }
    writeln!(out, "sent_ms,latency_us")?;
    for (&s, &l) in sent_ns.iter().zip(latency_ns) {
        writeln!(out, "{:.3},{}", s as f64 / 1e6, l / 1_000)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_even_spread_and_a_stall_are_told_apart() {
        // 10 s at 1 sample per ms, latency 1 ms...
        let sent: Vec<u64> = (0..10_000).map(|i| i * 1_000_000).collect();
        let mut lat = vec![1_000_000u64; 10_000];
        // ...with one slow sample every 100 ms: spread evenly.
        for i in (0..10_000).step_by(100) {
            lat[i] = 5_000_000;
        }
        let even = bunching(&sent, &lat).expect("enough samples");
        assert_eq!(even.windows, 100);
        assert_eq!(even.windows_with_slow, 100);
        assert!((even.share_in_worst_tenth - 0.1).abs() < 0.01);
        // The same number of slow samples in one 100 ms stall.
        let mut lat = vec![1_000_000u64; 10_000];
        for l in &mut lat[5_000..5_100] {
            *l = 5_000_000;
        }
        let stall = bunching(&sent, &lat).expect("enough samples");
        assert_eq!(stall.windows_with_slow, 1);
        assert!((stall.share_in_worst_tenth - 1.0).abs() < 1e-9);
    }

    #[test]
    fn late_ticks_of_one_pause_are_one_stall_and_small_ones_none() {
        // A 5 ms pause ending at 100 ms: three pairs' ticks fire late
        // together; a 1.5 ms hiccup at 300 ms is below the bound.
        let late = [
            (100_000_000, 5_000_000),
            (100_050_000, 4_900_000),
            (100_100_000, 4_000_000),
            (300_000_000, 1_500_000),
        ];
        assert_eq!(stalls(&late), [(95_000_000, 100_100_000)]);
        // 5.1 ms of stall and 10 ms after it; a second stall overlapping
        // the first's tail adds only what sticks out.
        assert_eq!(covered(&[(95_000_000, 100_100_000)]), 15_100_000);
        assert_eq!(
            covered(&[(95_000_000, 100_100_000), (105_000_000, 112_000_000)]),
            27_000_000
        );
    }

    #[test]
    fn slow_messages_are_told_near_a_stall_or_not() {
        // 1,000 samples 1 ms apart at 0.5 ms; ten slow ones (5 ms): five
        // sent right after a stall at 200 ms, five far from it at 700 ms.
        let sent: Vec<u64> = (0..1_000).map(|i| i * 1_000_000).collect();
        let mut lat = vec![500_000u64; 1_000];
        lat[201..206].fill(5_000_000);
        lat[700..705].fill(5_000_000);
        let share = near_stalls(&sent, &lat, &[(195_000_000, 200_000_000)]);
        assert!((share - 0.5).abs() < 1e-9, "{share}");
        assert_eq!(near_stalls(&sent, &lat, &[]), 0.0);
    }

    #[test]
    fn too_few_samples_say_nothing() {
        assert_eq!(bunching(&[1, 2], &[3, 4]), None);
    }

    #[test]
    fn the_csv_names_its_start_for_lining_up_with_traces() {
        mark_start(Instant::now());
        let path = std::env::temp_dir().join(format!("nc-timeline-{}.csv", std::process::id()));
        let path_str = path.to_str().unwrap_or_default().to_owned();
        assert!(write_csv(&path_str, &[1_500_000], &[2_000_000]).is_ok());
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("# run start: Instant"), "{text}");
        assert_eq!(lines[1..], ["sent_ms,latency_us", "1.500,2000"]);
    }
}
