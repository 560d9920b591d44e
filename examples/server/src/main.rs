//! `neurochat-server`: the NeuroChat example server.
//!
//! Zero config: `neurochat-server` listens on http://127.0.0.1:8080 over
//! `./neurochat.db`, generates its JWT signing key on first start, creates an
//! admin and prints its one-time password once. `--help` lists every option.
//!
//! # Layout
//! - `config` — flags, `NEUROCHAT_*` variables and the TOML file → `Settings`.
//! - `keys` — the signing key: configured, or kept in a 0600 key file.
//! - `server` — the router (API, `/demo`, `/widget/`), serving, graceful shutdown.
//! - `tls` — the rustls listener behind `--tls-cert` / `--tls-key`.
//! - `widget` — the chat widget's built files under `/widget/` (`--web-dir`).
//! - `console` — the agent console at `/console` (`--console-dir`).

mod config;
mod console;
mod keys;
mod server;
mod tls;
mod widget;

use std::process::ExitCode;

use clap::Parser as _;
use tracing_subscriber::EnvFilter;

use crate::config::{Cli, LogFormat};

fn main() -> ExitCode {
    let settings = match Cli::parse().resolve() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("neurochat-server: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logging(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("neurochat-server: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "the server stopped with an error");
            eprintln!("neurochat-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, so stdout carries only the start-up banner (bound
/// address, one-time admin password) that people and scripts read.
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
