//! In-memory store (being written).

/// The in-memory reference [`Store`](crate::ports::Store).
#[derive(Debug, Default)]
pub struct MemoryStore;
