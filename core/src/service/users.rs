//! users service.
