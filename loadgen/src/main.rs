//! `neurochat-loadgen`: a load generator for NeuroChat's WebSocket gateway
//! (`neurochat-transport-ws`) on the embedded SQLite store.
//!
//! ```text
//! cargo run --release -p neurochat-loadgen                 # = run --scenario all
//! cargo run --release -p neurochat-loadgen -- run --scenario relay --seconds 10
//! neurochat-loadgen server --db /tmp/x.db --plan /tmp/plan.json \
//!     --seed-pairs 100 --seed-idle 10000 --seed-creators 100 --seed-agents 10
//! ```
//!
//! # Subcommands
//! - `server` seeds a fresh SQLite database through the [`Desk`] API, writes
//!   a plan (port, tokens, ticket ids, its own pid) as JSON, binds
//!   `127.0.0.1:0`, prints `READY <port>` on stdout and serves the gateway
//!   until its stdin closes (SIGTERM and ctrl-c end it with their default
//!   action). Seeding uses `PasswordHashing::INSECURE_FAST_FOR_TESTS`:
//!   password hashing is not what is measured.
//! - `run` (the default) creates a temporary directory, starts the `server`
//!   subcommand of this same executable as a child, waits for `READY`, runs
//!   the scenarios, stops the server and prints a results table. The child is
//!   killed on any error, and a watchdog ends everything after 175 s.
//!
//! # Gateway load test
//! The measurement protocol: on a 2-core machine the server is pinned to
//! core 0 (`taskset -c 0`, so its tokio runtime gets one worker) and the load
//! generator to core 1 (`taskset -p -c 1` on itself before its runtime
//! starts, one current-thread runtime). If `/usr/bin/taskset` is missing
//! nothing is pinned and the output says so. Every message is persisted
//! (SQLite, WAL, `synchronous = NORMAL`) before it is acknowledged and
//! relayed — that is the gateway's behaviour, not something the load
//! generator adds. Only `127.0.0.1` is used. Timings are reported, never
//! asserted.
//!
//! 1. **idle** (runs first, so its memory baseline is the freshly seeded
//!    server): 10,000 customers (visitor tokens), each with its own ticket,
//!    connect, authenticate and `subscribe` to their ticket, at most 200
//!    connection set-ups in flight at once. Reported: the server's `VmRSS`
//!    (from `/proc/<server pid>/status`) before the first connection and
//!    after all are subscribed (plus 2 s to settle), the increase divided by
//!    the number of connections, and the set-up rate. Each connection keeps
//!    reading (answering server pings) until the scenario ends.
//! 2. **relay**: 100 customer/agent pairs, each pair on its own ticket, both
//!    subscribed. Customers send, agents receive.
//!    - *saturation*: each customer keeps up to 64 unacknowledged `send`s
//!      for `--seconds` (10); reported: messages received by agents within
//!      the window per second (the relay throughput) and acks per second.
//!    - *latency*: each customer paced at 50 msgs/s (5,000 msgs/s in total),
//!      the pairs staggered over the 20 ms period, for `--seconds`; a tick
//!      that finds 64 sends unacknowledged is skipped and counted. The body carries
//!      the send time as nanoseconds since a start instant shared by both
//!      ends (one process, one monotonic clock); the agent subtracts it from
//!      its receive time. Reported: p50, p99 and max of customer-send →
//!      agent-receive, and the achieved send rate.
//!    - after each phase the generator waits (bounded) for the tail, then
//!      checks per ticket that every acknowledged `seq` reached the agent
//!      exactly once (lost, duplicated, out-of-order and never-acknowledged
//!      seqs are counted).
//! 3. **tickets**: 10 agents `subscribe_inbox`; 100 customer connections
//!    `create_ticket` as fast as they can (up to 16 outstanding per
//!    connection) for `--seconds`. Reported: creations acknowledged per
//!    second, and for every agent whether it saw a `ticket_event` with change
//!    `created` for every acknowledged ticket (missing and duplicated events).
//!
//! Alongside, over each measured window: the server's and the load
//! generator's CPU use (from `/proc/<pid>/stat`), the server threads that
//! used the most (tokio worker vs. SQLite connection threads), and the CPU
//! of every other process plus softirq time (from `/proc/stat`), because the
//! machine may be shared — a window where other processes were busy gets a
//! note saying its numbers are perturbed.
//!
//! Between the two relay phases the generator waits `--settle N` seconds
//! (default 10): after saturation the server is still copying the WAL it
//! grew into the database file, and the latency phase is meant to measure
//! the steady state at its rate, not that catching up (`--settle 0` shows
//! it).
//!
//! `--rate N` changes the paced rate per customer (default 50, i.e. 5,000
//! msgs/s for 100 pairs), e.g. to measure latency below the saturation
//! throughput when 5,000 msgs/s is above it.
//!
//! The client avoids per-message JSON parsing on the hot path: frames are
//! routed by their `{"type":…` prefix and `seq`/`req`/ids are read by
//! substring; the first frame of each kind per connection is also fully
//! parsed with `neurochat-protocol`'s `ServerFrame` to check that the quick
//! reading agrees.
//!
//! [`Desk`]: neurochat_core::Desk

mod idle;
mod plan;
mod procfs;
mod relay;
mod runner;
mod server;
mod tickets;
mod timeline;
mod wire;

use std::process::ExitCode;

const USAGE: &str = "\
usage:
  neurochat-loadgen [run] [--scenario relay|idle|tickets|all] [--seconds N]
                    [--rate N (paced msgs/s per customer, default 50)] [--settle N (s before the latency phase, default 10)]
                    [--phases both|saturation|latency (relay phases, default both)]
                    [--pairs N] [--idle N] [--creators N] [--agents N]
  neurochat-loadgen server --db PATH --plan PATH [--seed-pairs N] [--seed-idle N]
                    [--seed-creators N] [--seed-agents N]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("server") => server::Options::parse(&args[1..]).and_then(server::main),
        Some("run") => runner::Options::parse(&args[1..]).and_then(runner::main),
        _ => runner::Options::parse(&args).and_then(runner::main),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("neurochat-loadgen: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Parses `--key value` pairs; `apply` handles one pair and says whether it
/// knew the key.
fn parse_flags(
    args: &[String],
    mut apply: impl FnMut(&str, &str) -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let mut it = args.iter();
    while let Some(key) = it.next() {
        let Some(value) = it.next() else {
            anyhow::bail!("`{key}` needs a value\n{USAGE}");
        };
        if !apply(key, value)? {
            anyhow::bail!("unknown option `{key}`\n{USAGE}");
        }
    }
    Ok(())
}

fn parse_num<T: std::str::FromStr>(key: &str, value: &str) -> anyhow::Result<T> {
    value
        .parse()
        .map_err(|_| anyhow::anyhow!("`{key}` takes a number, not `{value}`"))
}
