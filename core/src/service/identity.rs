//! identity service.
