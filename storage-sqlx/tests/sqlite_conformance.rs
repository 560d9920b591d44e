//! The storage conformance suite of `neurochat-core` against [`SqliteStore`],
//! four ways:
//!
//! - `fresh_file`: every test opens its own database file;
//! - `shared_file`: every test opens the same database file, proving the
//!   scenarios only rely on their own rows (and that many pools may open,
//!   migrate and use one file at once);
//! - `in_memory`: every test gets a private in-memory database (one pooled
//!   connection);
//! - `own_statements`: as `fresh_file`, but the group-commit writer writes a
//!   lone call with that call's own statements (the path a batch falls back
//!   to call by call) instead of the set-based plan it uses for batches (and,
//!   by default, for lone calls too), so every scenario checks both against
//!   the contract.
//!
//! The database files live in `target/tmp/sqlite_conformance/` (Cargo's
//! `CARGO_TARGET_TMPDIR`), emptied when the test binary starts: tests cannot
//! hook process exit, so the last run's files stay there until the next run
//! or `cargo clean`. Do not run two copies of this binary at once.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use neurochat_core::ports::Store;
use neurochat_storage_sqlx::SqliteStore;

static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sqlite_conformance");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
});

mod fresh_file {
    use super::*;

    async fn make() -> Arc<dyn Store> {
        let path = DIR.join(format!("{}.db", uuid::Uuid::new_v4()));
        Arc::new(SqliteStore::open(path).await.unwrap())
    }

    neurochat_core::store_conformance_tests!(make);
}

mod shared_file {
    use super::*;

    /// Every test opens its own pool (each test runs on its own runtime) on
    /// the one shared file. The first opens race to migrate it; the store
    /// migrates under SQLite's write lock, so that is safe too.
    async fn make() -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(DIR.join("shared.db")).await.unwrap())
    }

    neurochat_core::store_conformance_tests!(make);
}

mod in_memory {
    use super::*;

    async fn make() -> Arc<dyn Store> {
        Arc::new(SqliteStore::open_in_memory().await.unwrap())
    }

    neurochat_core::store_conformance_tests!(make);
}

/// Single calls with their own statements (the other modules plan them).
mod own_statements {
    use super::*;

    async fn make() -> Arc<dyn Store> {
        let path = DIR.join(format!("own-{}.db", uuid::Uuid::new_v4()));
        let store = SqliteStore::open(path).await.unwrap();
        store.plan_single_calls(false);
        Arc::new(store)
    }

    neurochat_core::store_conformance_tests!(make);
}
