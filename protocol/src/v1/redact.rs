//! Helpers for hand-written `Debug` impls that must never print a secret.

use std::fmt;

/// Stands in for a secret in `Debug` output; always prints `***`.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Redacts an optional secret while keeping whether it was present:
/// prints `Some(***)` or `None`.
pub(crate) fn redact_opt<T>(value: &Option<T>) -> Option<Redacted> {
    value.as_ref().map(|_| Redacted)
}
