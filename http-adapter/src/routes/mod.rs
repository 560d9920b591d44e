//! The handlers, one file per area. Every route is registered through
//! `utoipa_axum::routes!`, so its path and method come from its
//! `#[utoipa::path]` and it cannot be routed without being documented.

pub(crate) mod admin;
pub(crate) mod auth;
pub(crate) mod categories;
pub(crate) mod health;
pub(crate) mod messages;
pub(crate) mod tickets;
pub(crate) mod users;
pub(crate) mod widget;
pub(crate) mod ws;
