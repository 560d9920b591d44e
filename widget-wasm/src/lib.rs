//! The NeuroChat customer chat widget (see `docs/WIDGET.md`).
//!
//! Everything that decides what the widget shows lives in pure Rust modules
//! tested natively with `cargo test`; the `web` module (wasm32 only) is the
//! thin layer that talks to the DOM, the network and `localStorage`.
//!
//! - [`state`] — the reducer: `update(&mut State, Input) -> Vec<Effect>`.
//! - [`wire`] — the JSON the widget reads (lean mirrors of the protocol).
//! - [`out`] — the JSON it writes (frames, session request, stored state).
//! - [`text`] — linkify, subjects, body cleanup, clock.
//! - [`i18n`] — English and German strings.
//! - [`backoff`] — reconnect delays.

pub mod backoff;
pub mod i18n;
pub mod out;
pub mod state;
pub mod text;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod web;
