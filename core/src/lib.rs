//! NeuroChat core: the domain, the services and the ports.
//!
//! A host builds one [`Desk`] from a [`Store`](ports::Store) (in-memory,
//! SQLite, PostgreSQL or SQL Server), an optional event bus, mailer and clock,
//! and a [`Config`] value; every service call goes through it and carries the
//! acting [`Principal`], so authorization is decided here and no adapter can
//! forget a check.
//!
//! # Layout
//! - [`domain`] — pure types and validation rules (no I/O, no serde).
//! - [`ports`] — traits for storage, event bus, mailer, clock and ids.
//! - [`service`] — use cases, one file per area: auth, identity, users, audit,
//!   tickets, chat, categories, workers (assignment, SLAs, auto-close, reply
//!   mail), metrics, data rights, outbox.
//! - [`events`] — domain events and bus topics.
//! - [`memory`] — in-process adapters for every port.
//! - [`wire`] — conversions to and from `neurochat-protocol` types.
//! - `conformance` (feature `conformance`) — the storage test suite every store passes.
//! - [`Desk`] / [`DeskBuilder`] — the facade; [`Config`] — its settings.

pub mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
mod desk;
pub mod domain;
pub mod error;
pub mod events;
pub mod memory;
pub mod ports;
mod principal;
pub mod service;
pub mod wire;

pub use config::Config;
pub use desk::{Desk, DeskBuilder};
pub use error::{Error, Result};
pub use principal::{Principal, RequestContext};
