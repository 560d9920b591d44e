//! `cargo xtask`: the project's build, test and run commands in one place.
//!
//! Each subcommand is a list of [`Step`]s run in order from the workspace
//! root. Every step prints a header with the exact command line, so a failure
//! in CI can be reproduced by copying it; the first failing step stops the
//! run and its name is the error.
//!
//! # Layout
//! - [`test_steps`] — `cargo xtask test`, the one test command (CI runs it too).
//! - [`lint_steps`] — `cargo xtask lint`: formatting, clippy, rustdoc, wasm32.
//! - [`run_steps`] — `cargo xtask run`: the example server, in release.
//! - [`bench_steps`] — `cargo xtask bench`: criterion benches with short times.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test         run every test: the workspace, then the in-memory store conformance suite
  lint         cargo fmt --check, clippy -D warnings, rustdoc -D warnings, wasm32 check of the protocol
  run [ARGS]   run the example server (neurochat-server) in release, in the current
               directory (./neurochat.db); ARGS go to the server, e.g. `run -- --help`
  bench        run the criterion benches with short warm-up and measurement times
  help         print this message";

/// One command of a subcommand's sequence.
struct Step {
    /// Short name, printed in the header and in the error when it fails.
    name: &'static str,
    /// Arguments to `cargo`.
    args: Vec<OsString>,
    /// Extra environment for this step only.
    env: Vec<(&'static str, &'static str)>,
    /// Printed after a failure: the usual cause, if there is one worth naming.
    hint: Option<&'static str>,
    /// Run in the directory `cargo xtask` was started from instead of the
    /// workspace root (for programs whose relative paths are the user's).
    in_user_dir: bool,
}

impl Step {
    /// A `cargo` invocation.
    fn cargo(name: &'static str, args: &[&str]) -> Step {
        Step {
            name,
            args: args.iter().map(OsString::from).collect(),
            env: Vec::new(),
            hint: None,
            in_user_dir: false,
        }
    }

    /// Runs this step in the directory `cargo xtask` was started from.
    fn in_user_dir(mut self) -> Step {
        self.in_user_dir = true;
        self
    }

    /// Adds an environment variable for this step.
    fn env(mut self, key: &'static str, value: &'static str) -> Step {
        self.env.push((key, value));
        self
    }

    /// Adds a hint printed when the step fails.
    fn hint(mut self, hint: &'static str) -> Step {
        self.hint = Some(hint);
        self
    }

    /// Appends further arguments (e.g. ones passed through from the command line).
    fn args(mut self, more: impl IntoIterator<Item = OsString>) -> Step {
        self.args.extend(more);
        self
    }

    /// The command line as a user would type it, for the header.
    fn display(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.env {
            s.push_str(&format!("{k}={v} "));
        }
        s.push_str("cargo");
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }
}

/// `cargo xtask test`.
///
/// Services some tests will need (PostgreSQL, Redis) are to be started
/// before these steps and handed to them through the environment; nothing of
/// that exists yet, so the list is just the two cargo runs.
fn test_steps() -> Vec<Step> {
    vec![
        Step::cargo("workspace tests", &["test", "--workspace"]),
        // The in-memory store's conformance run needs core's `conformance`
        // feature. Within `--workspace` it is usually on already (storage
        // crates enable it in their dev-dependencies and features unify), but
        // this step makes the suite run against the reference store however
        // the other crates' dependencies change.
        Step::cargo(
            "in-memory store conformance",
            &["test", "-p", "neurochat-core", "--features", "conformance"],
        ),
    ]
}

/// `cargo xtask lint`: the same checks CI runs before the tests.
fn lint_steps() -> Vec<Step> {
    vec![
        Step::cargo("formatting", &["fmt", "--all", "--check"])
            .hint("run `cargo fmt -p <crate>` on the crate you changed"),
        Step::cargo(
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step::cargo(
            "rustdoc",
            &["doc", "--workspace", "--no-deps", "--all-features"],
        )
        .env("RUSTDOCFLAGS", "-D warnings"),
        Step::cargo(
            "protocol builds for wasm32",
            &[
                "check",
                "-p",
                "neurochat-protocol",
                "--target",
                "wasm32-unknown-unknown",
            ],
        )
        .hint("if the target is missing: `rustup target add wasm32-unknown-unknown`"),
    ]
}

/// `cargo xtask run [ARGS]`: the example server, zero config: it listens on
/// 127.0.0.1:8080 over `./neurochat.db` (and its key file, both ignored by
/// git) in the directory the command was started from, so its relative
/// paths and any path in `ARGS` mean what the user typed. Release, because
/// argon2 logins in a debug build are slow.
fn run_steps(passthrough: Vec<OsString>) -> Vec<Step> {
    vec![
        Step::cargo(
            "example server",
            &[
                "run",
                "--release",
                "--package",
                "neurochat-server",
                "--bin",
                "neurochat-server",
                "--",
            ],
        )
        .args(passthrough)
        .in_user_dir()
        .hint("is port 8080 taken? pass another: `cargo xtask run --listen 127.0.0.1:8081`"),
    ]
}

/// `cargo xtask bench`.
///
/// `--bench '*'` selects the bench targets only: the library and binary
/// targets would otherwise run under libtest's harness, which rejects
/// criterion's flags.
fn bench_steps() -> Vec<Step> {
    vec![Step::cargo(
        "criterion benches",
        &[
            "bench",
            "--workspace",
            "--bench",
            "*",
            "--",
            "--warm-up-time",
            "1",
            "--measurement-time",
            "3",
        ],
    )]
}

fn main() -> ExitCode {
    // Print the error chain only: a backtrace of xtask itself (shown when
    // RUST_BACKTRACE is set) says nothing about the step that failed.
    match xtask() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn xtask() -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let command = args.next().map(|c| c.to_string_lossy().into_owned());
    let rest: Vec<OsString> = args.collect();
    let no_args = |name: &str| -> Result<()> {
        if rest.is_empty() {
            Ok(())
        } else {
            bail!("`{name}` takes no arguments\n\n{USAGE}")
        }
    };

    let (title, steps) = match command.as_deref() {
        Some("test") => {
            no_args("test")?;
            ("test", test_steps())
        }
        Some("lint") => {
            no_args("lint")?;
            ("lint", lint_steps())
        }
        Some("bench") => {
            no_args("bench")?;
            ("bench", bench_steps())
        }
        // Everything after `run` goes to the server; a leading `--` is
        // dropped (to the server it would end the options, so `run -- --help`
        // would not show the help).
        Some("run") => {
            let args = match rest.split_first() {
                Some((first, args)) if first == "--" => args.to_vec(),
                _ => rest,
            };
            ("run", run_steps(args))
        }
        None | Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            return Ok(());
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    };
    run_all(title, &steps)
}

/// Runs `steps` in order from the workspace root (or, for steps marked so,
/// the user's directory), stopping at the first failure.
fn run_all(title: &str, steps: &[Step]) -> Result<()> {
    let root = workspace_root()?;
    let user_dir = std::env::current_dir().context("current directory")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let started = Instant::now();
    let total = steps.len();
    for (i, step) in steps.iter().enumerate() {
        eprintln!();
        eprintln!("==> [{}/{total}] {}", i + 1, step.name);
        eprintln!("    $ {}", step.display());
        let step_started = Instant::now();
        let status = Command::new(&cargo)
            .args(&step.args)
            .envs(step.env.iter().copied())
            .current_dir(if step.in_user_dir { &user_dir } else { &root })
            .status()
            .with_context(|| format!("could not start cargo for step `{}`", step.name))?;
        if !status.success() {
            if let Some(hint) = step.hint {
                eprintln!("hint: {hint}");
            }
            bail!("xtask {title}: step `{}` failed ({status})", step.name);
        }
        eprintln!(
            "<== [{}/{total}] {} ok ({:.1}s)",
            i + 1,
            step.name,
            step_started.elapsed().as_secs_f64()
        );
    }
    eprintln!();
    eprintln!(
        "xtask {title}: all {total} step(s) passed in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("xtask is expected to live one level below the workspace root")
}
