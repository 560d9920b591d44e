//! `cargo xtask`: the project's build, test and run commands in one place.
//!
//! Each subcommand is a list of [`Step`]s run in order from the workspace
//! root. Every step prints a header with the exact command line, so a failure
//! in CI can be reproduced by copying it; the first failing step stops the
//! run and its name is the error.
//!
//! # Layout
//! - [`test_steps`] — `cargo xtask test`, the one test command (CI runs it
//!   too); after these steps it runs [`fuzz_api`] and then the browser tests
//!   ([`browser::run`]).
//! - [`lint_steps`] — `cargo xtask lint`: formatting, clippy, rustdoc, wasm32.
//! - [`run_steps`] — `cargo xtask run`: the widget, then the example server, in release.
//! - [`bench_steps`] — `cargo xtask bench`: criterion benches with short times.
//! - [`fuzz_api`] — `cargo xtask fuzz-api`: schemathesis against the REST
//!   API's OpenAPI document (also the last step of `cargo xtask test`).

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};

mod browser;
mod web;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test         run every test: the workspace, the in-memory store conformance suite,
               fuzz-api, then test-browser
  lint         cargo fmt --check, clippy -D warnings, rustdoc -D warnings, wasm32 clippy of protocol/widget/console
  run [ARGS]   build the web apps (as `web`; a failure only warns), then run the example
               server (neurochat-server) in release, in the current directory
               (./neurochat.db); ARGS go to the server, e.g. `run -- --help`
  web          build the chat widget and the agent console for wasm32 into target/web/
               (sizes; the widget's 60 KB gzip budget); NEUROCHAT_WEB_APPS=widget|console builds one
  test-browser run the headless Chromium tests (tests/browser/) against the example server;
               skipped loudly without Chromium or Node >= 18, an error instead under
               CI=true. NC_BROWSER_TESTS=outage,xss runs only the files naming one
  bench        run the criterion benches with short warm-up and measurement times
  fuzz-api     fuzz the REST API from its OpenAPI document with schemathesis (no 5xx,
               no response-schema violations); skipped loudly if schemathesis is
               missing, an error instead under CI=true. SCHEMATHESIS=PATH picks the binary
  help         print this message";

/// One command of a subcommand's sequence.
struct Step {
    /// Short name, printed in the header and in the error when it fails.
    name: &'static str,
    /// Arguments to `cargo`.
    args: Vec<OsString>,
    /// Extra environment for this step only.
    env: Vec<(&'static str, OsString)>,
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
    fn env(mut self, key: &'static str, value: impl Into<OsString>) -> Step {
        self.env.push((key, value.into()));
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
            s.push_str(&format!("{k}={} ", v.to_string_lossy()));
        }
        s.push_str("cargo");
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }
}

/// `cargo xtask test`: these cargo runs, then `fuzz-api`, then the browser
/// tests (`test-browser`: headless Chromium against the example server).
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
        // The web apps' browser code (`web` modules) only compiles for
        // wasm32, so the workspace clippy above never sees it.
        Step::cargo(
            "clippy for wasm32 (protocol, widget, console)",
            &[
                "clippy",
                "-p",
                "neurochat-protocol",
                "-p",
                "neurochat-widget",
                "-p",
                "neurochat-console",
                "--target",
                "wasm32-unknown-unknown",
                "--",
                "-D",
                "warnings",
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
///
/// The widget is built first (`cargo xtask web`, in the `Some("run")` arm)
/// and served from `web_dir` (`target/web/widget/`), handed over as
/// `NEUROCHAT_WEB_DIR` unless the environment sets it already (a
/// `--web-dir` in `ARGS` wins over both).
fn run_steps(passthrough: Vec<OsString>, web_dir: &Path) -> Vec<Step> {
    let mut step = Step::cargo(
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
    .hint("is port 8080 taken? pass another: `cargo xtask run --listen 127.0.0.1:8081`");
    if std::env::var_os("NEUROCHAT_WEB_DIR").is_none() {
        step = step.env("NEUROCHAT_WEB_DIR", web_dir.as_os_str());
    }
    vec![step]
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
            run_all("test", &test_steps())?;
            fuzz_api()?;
            return browser::run();
        }
        Some("fuzz-api") => {
            no_args("fuzz-api")?;
            return fuzz_api();
        }
        Some("web") => {
            no_args("web")?;
            return web::build();
        }
        Some("test-browser") => {
            no_args("test-browser")?;
            return browser::run();
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
            // The widget first (not for `--help`/`--version`); without it
            // the server still runs, and says its /widget/ files are missing.
            let asks = |a: &OsString| {
                ["-h", "--help", "-V", "--version"]
                    .map(OsString::from)
                    .contains(a)
            };
            if !args.iter().any(asks)
                && let Err(e) = web::build()
            {
                eprintln!();
                eprintln!("warning: the widget was not built ({e:#}); running the server anyway");
            }
            ("run", run_steps(args, &web::out_dir()?))
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
            .envs(step.env.iter().map(|(k, v)| (k, v)))
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

/// Test cases schemathesis generates per operation and phase: one round of
/// all phases is about 2,000 requests over the 37 operations (~12 s).
const FUZZ_EXAMPLES: &str = "20";
/// The whole run's budget in seconds: schemathesis repeats its fuzzing and
/// stateful phases with new data until it is spent (~10,000 requests on two
/// cores), so the step takes a bounded minute, not a variable one.
const FUZZ_SECONDS: &str = "60";
/// The customer pass's budget (ticket operations only).
const FUZZ_CUSTOMER_SECONDS: &str = "20";

/// `cargo xtask fuzz-api`: starts `neurochat-http`'s `api_server` example
/// (the router over a fresh SQLite file, rate limits off, an admin token
/// printed) on a free port, runs schemathesis against its
/// `/api/v1/openapi.json` with the admin's token, and fails on any 5xx or
/// response that does not match its documented schema.
///
/// Left out: `/ws` (an upgrade, not REST) and `POST /auth/logout`, which
/// would end the admin session every later request relies on (the
/// black-box tests cover it).
fn fuzz_api() -> Result<()> {
    let root = workspace_root()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let st = std::env::var_os("SCHEMATHESIS").unwrap_or_else(|| OsString::from("schemathesis"));
    let version = Command::new(&st).arg("--version").output();
    match version {
        Ok(out) if out.status.success() => {
            eprintln!();
            eprintln!(
                "==> fuzz-api: {}",
                String::from_utf8_lossy(&out.stdout).trim()
            );
        }
        _ if ci => bail!(
            "fuzz-api: schemathesis ({}) is not installed; under CI=true that is a failure \
             (.ci/run installs it)",
            st.to_string_lossy()
        ),
        _ => {
            eprintln!();
            eprintln!("################################################################");
            eprintln!("##  SKIPPED: fuzz-api (schemathesis is not installed)");
            eprintln!("##  The REST API was NOT fuzzed. Install it and rerun:");
            eprintln!("##    python3 -m venv /tmp/st && /tmp/st/bin/pip install schemathesis");
            eprintln!("##    SCHEMATHESIS=/tmp/st/bin/schemathesis cargo xtask fuzz-api");
            eprintln!("################################################################");
            return Ok(());
        }
    }

    let status = Command::new(&cargo)
        .args([
            "build",
            "-q",
            "-p",
            "neurochat-http",
            "--example",
            "api_server",
        ])
        .current_dir(&root)
        .status()
        .context("could not start cargo to build the api_server example")?;
    if !status.success() {
        bail!("fuzz-api: building the api_server example failed ({status})");
    }
    // The server lives until its stdin closes: dropping `child.stdin` stops
    // it, whatever happens below, with no signals or stray processes.
    let mut child = Command::new(&cargo)
        .args([
            "run",
            "-q",
            "-p",
            "neurochat-http",
            "--example",
            "api_server",
        ])
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start the api_server example")?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().context("api_server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let (mut url, mut admin, mut customer) = (None, None, None);
    for line in lines.by_ref() {
        let line = line.context("reading api_server output")?;
        if let Some(u) = line.strip_prefix("listening ") {
            url = Some(u.to_owned());
        } else if let Some(t) = line.strip_prefix("admin-token ") {
            admin = Some(t.to_owned());
        } else if let Some(t) = line.strip_prefix("customer-token ") {
            customer = Some(t.to_owned());
        } else if line == "ready" {
            break;
        }
    }
    let (Some(url), Some(admin), Some(customer)) = (url, admin, customer) else {
        drop(stdin);
        let _ = child.wait();
        bail!("fuzz-api: the api_server example stopped before it was ready");
    };

    // schemathesis writes its reports and example database into the
    // current directory: keep them in target/.
    let work = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("fuzz-api");
    std::fs::create_dir_all(&work).context("creating target/fuzz-api")?;
    // Two passes: the admin reaches every operation but may not open
    // tickets (customers only), so a customer pass fuzzes opening tickets
    // and, through the ticket ids those answers link to, the customer's own
    // tickets, messages and receipts. The customer goes first: the admin
    // pass disables and erases the users it finds, that customer included.
    let passes = [
        (
            "customer",
            &customer,
            FUZZ_CUSTOMER_SECONDS,
            Some("^/api/v1/tickets"),
        ),
        ("admin", &admin, FUZZ_SECONDS, None),
    ];
    let started = Instant::now();
    let mut failed = Vec::new();
    for (who, token, seconds, only) in passes {
        let mut args: Vec<String> = vec![
            "run".into(),
            format!("{url}/api/v1/openapi.json"),
            "--url".into(),
            url.clone(),
            "--checks".into(),
            "not_a_server_error,response_schema_conformance".into(),
            "--max-examples".into(),
            FUZZ_EXAMPLES.into(),
            // One worker: with two, schemathesis' threads sometimes crash
            // inside CPython 3.11's parser ("AST constructor recursion
            // depth mismatch", a runtime error, not an API failure).
            "--workers".into(),
            "1".into(),
            "--seed".into(),
            "1".into(),
            "--no-shrink".into(),
            "--request-timeout".into(),
            "15".into(),
            "--max-time".into(),
            seconds.into(),
            "--generation-database".into(),
            "none".into(),
            "--exclude-path".into(),
            "/ws".into(),
            "--exclude-path".into(),
            "/api/v1/auth/logout".into(),
        ];
        if let Some(re) = only {
            args.extend(["--include-path-regex".into(), re.into()]);
        }
        eprintln!();
        eprintln!("==> fuzz-api: {who} pass");
        eprintln!(
            "    $ {} {} -H 'Authorization: Bearer <{who} token>'",
            st.to_string_lossy(),
            args.join(" ")
        );
        let status = Command::new(&st)
            .args(&args)
            .arg("-H")
            .arg(format!("Authorization: Bearer {token}"))
            .current_dir(&work)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => failed.push(format!("{who} pass ({s})")),
            Err(e) => failed.push(format!("{who} pass (could not start schemathesis: {e})")),
        }
    }
    drop(stdin);
    let mut requests = None;
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("requests ") {
            requests = n.parse::<u64>().ok();
        }
    }
    let _ = child.wait();
    let requests = requests.map_or_else(|| "an unknown number of".to_owned(), |n| n.to_string());
    eprintln!(
        "fuzz-api: the server answered {requests} requests in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        bail!(
            "fuzz-api: schemathesis found failures in the {}; see its report above",
            failed.join(", ")
        );
    }
    eprintln!("<== fuzz-api ok: no 5xx, no response-schema violations");
    Ok(())
}
