//! outbox service.
