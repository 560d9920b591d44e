//! auth service.
