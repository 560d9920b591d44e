//! audit service.
