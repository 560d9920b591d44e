//! Examples of embedding NeuroChat. The programs are in `src/bin/`:
//!
//! - `embed-sqlite` — the library end to end on a SQLite file (`cargo xtask run`).
//!
//! This library target holds no code of its own. It exists so that
//! `cargo test` compiles the Rust snippets of the workspace `README.md` as
//! doc-tests, and a README example that stops compiling fails the tests.

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
