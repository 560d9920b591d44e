//! NeuroChat wire types.
//!
//! Everything that crosses the network — REST bodies and WebSocket frames —
//! lives here, versioned under [`v1`]. The crate depends on serde only (plus
//! `uuid` and `time` serde support) so the widget and the console, compiled to
//! wasm32, share these types with the server and cannot drift apart.
//!
//! # Layout
//! - [`v1::error`] — `ErrorBody` and the stable `ErrorCode` vocabulary.
//! - [`v1::common`] — `Page<T>` (keyset pagination), `Role`, `Availability`.
//! - [`v1::auth`] — register/login/refresh/logout, password reset and change,
//!   `AuthTokens`, widget visitor sessions and `HostIdentity`.
//! - [`v1::users`] — `UserView`, `AgentView`, `AgentLoadView` (the staff
//!   directory), profile and admin bodies,
//!   `UserQuery`.
//! - [`v1::audit`] — `AuditAction`, `AuditEntryView`, `AuditQuery`.
//! - [`v1::tickets`] — `TicketView`, statuses and priorities, ticket and
//!   category bodies, `TicketQuery`.
//! - [`v1::messages`] — `MessageView`, `SendMessageRequest`, receipts,
//!   `HistoryQuery`.
//! - [`v1::widget`] — `WidgetStatusView`, the widget header's team status.
//! - [`v1::frames`] — WebSocket frames (`ClientFrame`, `ServerFrame`) and
//!   [`v1::close_codes`].
//!
//! Every type is re-exported from [`v1`].
//!
//! # Conventions
//! JSON field names and enum values are snake_case; tagged unions carry a
//! `type` (or `method`) field; timestamps are RFC 3339 strings; ids are
//! hyphenated UUIDs; absent optional fields are omitted. Request bodies and
//! client frames reject unknown fields. Types holding passwords or tokens print
//! them as `***` in `Debug`. The golden files under `tests/golden/` pin the
//! wire format: any change shows up there in review.

pub mod v1;

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;
