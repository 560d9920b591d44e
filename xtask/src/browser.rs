//! `cargo xtask test-browser`: the headless Chromium tests in
//! `tests/browser/` against the real example server (also the last step of
//! `cargo xtask test`).
//!
//! 1. Checks for Chromium (`/usr/bin/chromium`, or `NC_BROWSER_CHROMIUM`),
//!    Node ≥ 18 and npm. Without them the run is **skipped loudly** (a
//!    banner, success) — except under `CI=true`, where it fails.
//! 2. Builds `neurochat-server` (debug: argon2 and its hashes are compiled
//!    at opt-level 3 even there, so logins are fast) and the widget
//!    (`cargo xtask web` → `target/web/widget/`).
//! 3. Runs `npm ci` in `tests/browser/` when `node_modules` is missing or
//!    was installed from another `package-lock.json`.
//! 4. Runs each `tests/browser/*.test.mjs` with `node --test`, one file at a
//!    time (each starts its own servers and Chromium), telling them through
//!    the environment where the server binary (`NC_BROWSER_SERVER_BIN`), the
//!    widget build (`NC_BROWSER_WEB_DIR`), Chromium (`NC_BROWSER_CHROMIUM`)
//!    and the artifacts directory (`NC_BROWSER_ARTIFACTS`,
//!    `target/browser-artifacts/`: screenshots) are.
//!
//! `NC_BROWSER_TESTS=outage,xss` runs only the files whose names contain
//! one of those words.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, bail};

/// Oldest Node whose `node --test` runner and `fetch` the tests rely on
/// (Debian 12's `nodejs` is 18).
const MIN_NODE_MAJOR: u32 = 18;

/// Where Debian's Chromium lives; `NC_BROWSER_CHROMIUM` overrides it.
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// The longest one test file may run (its tests have their own, shorter
/// timeouts); past it the file is stopped and counts as failed.
const FILE_DEADLINE: Duration = Duration::from_secs(600);

/// Written into `node_modules/` after `npm ci`: the lock file it installed.
const STAMP: &str = ".neurochat-package-lock.json";

/// Runs the browser tests (skipped loudly without Chromium or Node, except
/// under `CI=true`).
pub fn run() -> Result<()> {
    let root = crate::workspace_root()?;
    let dir = root.join("tests").join("browser");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");

    let chromium = std::env::var_os("NC_BROWSER_CHROMIUM")
        .map_or_else(|| PathBuf::from(DEFAULT_CHROMIUM), PathBuf::from);
    let mut missing = Vec::new();
    if !chromium.is_file() {
        missing.push(format!("Chromium ({} not found)", chromium.display()));
    }
    match node_major() {
        Some(v) if v >= MIN_NODE_MAJOR => {}
        Some(v) => missing.push(format!("Node >= {MIN_NODE_MAJOR} (found v{v})")),
        None => missing.push("Node (`node` not found)".to_owned()),
    }
    if !command_works("npm", &["--version"]) {
        missing.push("npm (`npm` not found)".to_owned());
    }
    if !missing.is_empty() {
        if ci {
            bail!(
                "test-browser: missing {}; under CI=true that is a failure (.ci/run installs them)",
                missing.join(", ")
            );
        }
        eprintln!();
        eprintln!("################################################################");
        eprintln!("##  SKIPPED: browser tests (tests/browser/)");
        for m in &missing {
            eprintln!("##    missing: {m}");
        }
        eprintln!("##  The widget was NOT tested in a browser. Install and rerun:");
        eprintln!("##    apt-get install -y --no-install-recommends chromium nodejs npm");
        eprintln!("##    cargo xtask test-browser");
        eprintln!("################################################################");
        return Ok(());
    }

    let started = Instant::now();
    let target = target_dir(&root)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));

    eprintln!();
    eprintln!("==> test-browser: building neurochat-server (debug)");
    let status = Command::new(&cargo)
        .args([
            "build",
            "-p",
            "neurochat-server",
            "--bin",
            "neurochat-server",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&root)
        .status()
        .context("could not start cargo to build neurochat-server")?;
    if !status.success() {
        bail!("test-browser: building neurochat-server failed ({status})");
    }
    let server_bin = target.join("debug").join("neurochat-server");

    eprintln!();
    eprintln!("==> test-browser: building the widget (cargo xtask web)");
    let web_dir = crate::web::out_dir()?;
    let build_started = SystemTime::now();
    // A build that wrote its whole output and then failed a check (the
    // size budget) still gets tested: the run fails at the end with the
    // build's error, after the browser results are known.
    let mut web_error = None;
    if let Err(e) = crate::web::build() {
        if fresh_output(&web_dir, build_started) {
            eprintln!();
            eprintln!("test-browser: the widget build failed a check ({e:#});");
            eprintln!("              its output is complete, so the browser tests run anyway");
            web_error = Some(e);
        } else {
            return Err(e.context("test-browser: building the widget"));
        }
    }
    if !web_dir.join("neurochat.js").is_file() {
        bail!(
            "test-browser: the widget build has no {}",
            web_dir.join("neurochat.js").display()
        );
    }

    npm_ci(&dir)?;

    let artifacts = target.join("browser-artifacts");
    std::fs::create_dir_all(&artifacts)
        .with_context(|| format!("creating {}", artifacts.display()))?;
    // Failure captures of an earlier run would read as this run's.
    for entry in std::fs::read_dir(&artifacts)?.flatten() {
        if entry.file_name().to_string_lossy().starts_with("failure-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let files = test_files(&dir)?;
    if files.is_empty() {
        bail!(
            "test-browser: no test files selected in {} (NC_BROWSER_TESTS={:?})",
            dir.display(),
            std::env::var("NC_BROWSER_TESTS").unwrap_or_default()
        );
    }

    let mut failed = Vec::new();
    let mut results = Vec::new();
    for file in &files {
        let name = file.to_string_lossy().into_owned();
        eprintln!();
        eprintln!("==> test-browser: {name}");
        eprintln!("    $ node --test --test-reporter=spec {name}   (in tests/browser)");
        let file_started = Instant::now();
        let mut cmd = Command::new("node");
        cmd.args(["--test", "--test-reporter=spec"])
            .arg(file)
            .current_dir(&dir)
            .env("NC_BROWSER_SERVER_BIN", &server_bin)
            .env("NC_BROWSER_WEB_DIR", &web_dir)
            .env("NC_BROWSER_CHROMIUM", &chromium)
            .env("NC_BROWSER_ARTIFACTS", &artifacts);
        let outcome = run_with_deadline(cmd, FILE_DEADLINE)
            .with_context(|| format!("could not run node for {name}"))?;
        let secs = file_started.elapsed().as_secs_f64();
        match outcome {
            Some(status) if status.success() => {
                results.push(format!("  ok    {name} ({secs:.1}s)"));
            }
            Some(status) => {
                results.push(format!("  FAIL  {name} ({secs:.1}s, {status})"));
                failed.push(name);
            }
            None => {
                results.push(format!(
                    "  FAIL  {name} (killed after {}s: hung)",
                    FILE_DEADLINE.as_secs()
                ));
                failed.push(name);
            }
        }
    }
    eprintln!();
    eprintln!("test-browser: results");
    for r in &results {
        eprintln!("{r}");
    }
    eprintln!(
        "  screenshots and failure captures: {}",
        artifacts.display()
    );
    eprintln!("  took {:.1}s", started.elapsed().as_secs_f64());
    match (failed.is_empty(), web_error) {
        (true, None) => {
            eprintln!("<== test-browser ok: {} file(s) passed", files.len());
            Ok(())
        }
        (true, Some(e)) => Err(e.context(format!(
            "test-browser: all {} file(s) passed, but the widget build failed",
            files.len()
        ))),
        (false, web) => {
            let build = web.map_or_else(String::new, |e| {
                format!("; the widget build failed too: {e:#}")
            });
            bail!(
                "test-browser: {} file(s) failed: {}{build}",
                failed.len(),
                failed.join(", ")
            )
        }
    }
}

/// Whether `dir` holds a complete widget build written since `since`: a
/// `manifest.json` that new, and every file it names.
fn fresh_output(dir: &Path, since: SystemTime) -> bool {
    let manifest = dir.join("manifest.json");
    let new_enough = std::fs::metadata(&manifest)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= since);
    let Ok(text) = std::fs::read_to_string(&manifest) else {
        return false;
    };
    // `"loader": "…", "glue": "…", "wasm": "…"`, read without a JSON parser.
    let named = ["loader", "glue", "wasm"].map(|key| {
        let pat = format!("\"{key}\":");
        text.find(&pat).and_then(|i| {
            let rest = &text[i + pat.len()..];
            let start = rest.find('"')? + 1;
            let len = rest[start..].find('"')?;
            Some(rest[start..start + len].to_owned())
        })
    });
    new_enough
        && named.iter().all(|f| {
            f.as_ref()
                .is_some_and(|f| !f.is_empty() && dir.join(f).is_file())
        })
}

/// The target directory cargo uses: `CARGO_TARGET_DIR` (relative to the
/// directory `cargo xtask` was started from, as cargo reads it) or
/// `target/` in the workspace.
fn target_dir(root: &Path) -> Result<PathBuf> {
    Ok(match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                std::env::current_dir()
                    .context("current directory")?
                    .join(dir)
            }
        }
        None => root.join("target"),
    })
}

/// `node --version` → its major version.
fn node_major() -> Option<u32> {
    let out = Command::new("node").arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let v = String::from_utf8_lossy(&out.stdout);
    v.trim()
        .trim_start_matches('v')
        .split('.')
        .next()?
        .parse()
        .ok()
}

fn command_works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `npm ci` unless `node_modules` was installed from this very lock file.
fn npm_ci(dir: &Path) -> Result<()> {
    let lock = std::fs::read(dir.join("package-lock.json"))
        .context("reading tests/browser/package-lock.json")?;
    let stamp = dir.join("node_modules").join(STAMP);
    if std::fs::read(&stamp).is_ok_and(|s| s == lock) {
        eprintln!();
        eprintln!("==> test-browser: node_modules is up to date with package-lock.json");
        return Ok(());
    }
    eprintln!();
    eprintln!("==> test-browser: npm ci (tests/browser)");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .context("could not start npm")?;
    if !status.success() {
        bail!("test-browser: `npm ci` in tests/browser failed ({status})");
    }
    std::fs::write(&stamp, &lock).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(())
}

/// `*.test.mjs` in `dir`: the harness's own test first, then by name;
/// filtered by `NC_BROWSER_TESTS` (comma-separated substrings).
fn test_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let filter: Vec<String> = std::env::var("NC_BROWSER_TESTS")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".test.mjs")
            && (filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str())))
        {
            files.push(PathBuf::from(name.as_ref()));
        }
    }
    files.sort_by_key(|f| (!f.to_string_lossy().starts_with("harness"), f.clone()));
    Ok(files)
}

/// Runs `cmd`; `None` if it outlived `deadline`. A hung file gets SIGTERM
/// (the tests then kill their servers, and Playwright its Chromium), and
/// SIGKILL 10 s later. The child stays in our process group, so Ctrl-C
/// reaches it too.
fn run_with_deadline(mut cmd: Command, deadline: Duration) -> Result<Option<ExitStatus>> {
    let mut child = cmd.spawn()?;
    let started = Instant::now();
    let mut terminated: Option<Instant> = None;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(if terminated.is_some() {
                None
            } else {
                Some(status)
            });
        }
        match terminated {
            None if started.elapsed() > deadline => {
                eprintln!(
                    "test-browser: still running after {}s; sending SIGTERM",
                    deadline.as_secs()
                );
                // The shell's builtin `kill`: std can only send SIGKILL.
                let _ = Command::new("sh")
                    .args(["-c", &format!("kill -TERM {}", child.id())])
                    .status();
                terminated = Some(Instant::now());
            }
            Some(at) if at.elapsed() > Duration::from_secs(10) => {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(None);
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
