//! `cargo xtask test-browser`: the headless Chromium tests in
//! `tests/browser/` against the real example server.

use anyhow::{Result, bail};

/// Runs the browser tests (skipped loudly without Chromium, except under
/// `CI=true`).
pub fn run() -> Result<()> {
    bail!("`cargo xtask test-browser` is not implemented yet")
}
