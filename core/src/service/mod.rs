//! Use cases, one file per area. Each adds methods to [`Desk`](crate::Desk).

pub mod audit;
pub mod auth;
pub mod identity;
pub mod outbox;
pub(crate) mod password;
pub(crate) mod secrets;
pub mod tokens;
pub mod users;
