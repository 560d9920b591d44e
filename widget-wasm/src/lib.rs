//! The NeuroChat customer chat widget (see `docs/WIDGET.md`).
//!
//! Everything that decides what the widget shows lives in pure Rust modules
//! tested natively with `cargo test`; the `web` module (wasm32 only) is the
//! thin layer that talks to the DOM, the network and `localStorage`.

#[cfg(target_arch = "wasm32")]
mod web;
