//! Use cases, one file per area. Each adds methods to [`Desk`](crate::Desk).

pub mod audit;
pub mod auth;
pub mod categories;
pub mod chat;
pub mod data_rights;
pub mod identity;
pub mod metrics;
pub mod outbox;
pub(crate) mod password;
pub(crate) mod secrets;
pub mod tickets;
pub mod tokens;
pub mod users;
pub mod workers;
