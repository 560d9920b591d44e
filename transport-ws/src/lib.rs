//! NeuroChat's real-time gateway: WebSocket protocol v1.
//!
//! Every chat message is delivered exactly once and in order per ticket,
//! across reconnects and server restarts: a client (re)subscribes with the
//! last `seq` it holds, the gateway replays the gap from storage and then
//! streams live events, dropping anything at or below the last `seq` it wrote.
//! Sends are idempotent by `client_msg_id`.
//!
//! # Layout
//! - [`session`] — one connection, generic over a `Sink`/`Stream` of [`WsFrame`]s.
//! - [`serve()`] — a standalone tokio-tungstenite server on a bound listener.
//! - [`Gateway`] — state shared by sessions: connection counts, presence, shutdown.
//! - [`GatewayConfig`] — every limit, with safe defaults.
//! - [`frame`] — the library-neutral frame type and tungstenite conversions.

pub mod config;
pub mod frame;
mod gateway;
mod outbox;
mod ratelimit;
mod serve;
pub mod session;

pub use config::GatewayConfig;
pub use frame::WsFrame;
pub use gateway::{Gateway, GatewayStats};
pub use serve::{WRITE_BUFFER_BYTES, serve};
pub use session::PeerInfo;
