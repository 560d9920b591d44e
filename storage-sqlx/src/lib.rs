//! NeuroChat storage on [sqlx]: every storage port of `neurochat-core`
//! ([`Store`](neurochat_core::ports::Store)) on a SQL database.
//!
//! - [`SqliteStore`] (feature `sqlite`, on by default): an embedded database
//!   file with WAL journal and foreign keys; the schema is migrated on open
//!   (`migrations/sqlite`, embedded in the binary).
//!
//! The storage representation is chosen to port to PostgreSQL and SQL Server
//! unchanged: ids are hyphenated UUID text, timestamps are unix milliseconds
//! in 64-bit integers (the precision `neurochat_core` keeps), enums are their
//! stable lower-case names, secret hashes are blobs. A PostgreSQL store will
//! sit beside the SQLite one as its own module behind its own feature, sharing
//! the backend-neutral helpers in `common`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), neurochat_core::ports::StoreError> {
//! use std::sync::Arc;
//! use neurochat_core::ports::Store;
//! use neurochat_storage_sqlx::SqliteStore;
//!
//! let store: Arc<dyn Store> = Arc::new(SqliteStore::open("neurochat.db").await?);
//! store.ping().await?;
//! # Ok(())
//! # }
//! ```

mod common;
#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
