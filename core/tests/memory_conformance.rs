//! The storage conformance suite against the in-memory reference store.

use std::sync::Arc;

use neurochat_core::memory::MemoryStore;
use neurochat_core::ports::Store;

/// A fresh, empty store per test.
async fn make() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

neurochat_core::store_conformance_tests!(make);
