//! The NeuroChat agent console (`/console`): agents and admins log in, work
//! the ticket queue live over the WebSocket gateway, and administer users,
//! categories and the audit log. See `docs/CONSOLE.md`.
//!
//! The crate has two halves:
//! - pure logic without `web-sys`, tested natively with
//!   `cargo test -p neurochat-console`: [`query`] (filters → query strings),
//!   [`backoff`], [`inbox`] (the live ticket list over `ticket_event`s),
//!   [`conversation`] (exactly-once messages keyed by `seq`, the outbox of
//!   optimistic sends, receipts, typing), [`session`] (token refresh
//!   timing), [`password`] (new-password checks, the reset link's token,
//!   the messages of the password calls' error codes), [`keys`]
//!   (keyboard shortcuts), [`staff`] (the staff
//!   directory: assignee choices and loads), [`live`] (the reducer over
//!   server frames that ties them together) and [`wire`] (JSON of
//!   `neurochat_protocol` frames);
//! - `web` (wasm32 only): the DOM, fetch, the WebSocket, timers, storage.
//!
//! Every wire type is `neurochat_protocol::v1`'s, read and written with
//! serde JSON, so server and console cannot drift apart.

pub mod backoff;
pub mod conversation;
pub mod inbox;
pub mod keys;
pub mod live;
pub mod password;
pub mod query;
pub mod session;
pub mod staff;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod web;
