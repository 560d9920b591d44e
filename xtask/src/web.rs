//! `cargo xtask web`: builds the web apps (the widget) for wasm32 into
//! `target/web/` (see `docs/WIDGET.md`).

use anyhow::{Result, bail};

/// Builds the widget into `target/web/widget/` and checks its size budget.
pub fn build() -> Result<()> {
    bail!("`cargo xtask web` is not implemented yet")
}
