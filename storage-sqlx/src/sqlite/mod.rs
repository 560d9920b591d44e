//! The embedded SQLite store.
//!
//! One database file (or an in-memory database for tests), WAL journal,
//! foreign keys on, a 5 s busy timeout and `synchronous = NORMAL`. Every
//! multi-row method runs in one `BEGIN IMMEDIATE` transaction: SQLite then
//! takes the write lock at the start, so two writers never deadlock on a
//! read-to-write lock upgrade — the second simply waits (up to the busy
//! timeout) and then sees the first one's result. That serialisation is what
//! makes the races in the store contract (refresh-token rotation, message
//! `seq`, ticket numbers, outbox leases) come out right; the conditional
//! updates inside are kept as a second line of defence.
//!
//! Within one [`SqliteStore`] (and its clones) those write transactions also
//! take turns on an async mutex before they ask SQLite for the lock. SQLite's
//! busy handler waits by sleeping (1, 2, 5, 10 … ms), so writers that collide
//! inside SQLite leave the lock idle most of the time; queued on the mutex
//! (first come, first served) they follow each other without a gap. Other
//! processes and other pools on the same file still meet the busy timeout.
//!
//! Ticket text search uses an FTS5 table (`ticket_search`, migration 0002)
//! kept in the same transactions as tickets and messages; every ticket
//! listing and background queue reads an index, which
//! [`SqliteStore::query_plan`] shows (and the tests check).
//!
//! Layout: one file per storage trait, plus `search` (the full-text index)
//! and `plans` (query plans); shared representation helpers live in
//! `crate::common` so a PostgreSQL store can sit beside this one.

mod audit;
mod categories;
mod messages;
mod outbox;
mod plans;
mod search;
mod sessions;
mod tickets;
mod users;

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use neurochat_core::ports::{Store, StoreError, StoreResult};
use sqlx::error::ErrorKind;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, SqliteConnection, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::common::unique_constraint_name;

pub use plans::StoreQuery;

/// The schema migrations, embedded at build time from `migrations/sqlite`.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a statement waits for another connection's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in the pool of a file database.
pub const MAX_CONNECTIONS: u32 = 8;

/// A [`Store`] on SQLite.
///
/// Cheap to clone (it wraps a connection pool). Open one per database and
/// share it, e.g. as `Arc<dyn Store>`.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Turns for the write transactions of this store (see the module docs).
    writer: Arc<Mutex<()>>,
}

/// A write transaction holding this store's writer turn; derefs to the
/// connection. Dropping it without [`commit`] rolls back and gives the turn up.
pub(crate) struct WriteTx {
    // Declared first: dropped (rolled back) before the turn is released.
    tx: Transaction<'static, Sqlite>,
    _turn: OwnedMutexGuard<()>,
}

impl Deref for WriteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and brings its
    /// schema up to date.
    ///
    /// The file is created when missing, but its parent directory must exist:
    /// the store never creates directories (a mistyped path should fail loudly
    /// rather than scatter directories). Connections use the WAL journal,
    /// `foreign_keys = ON`, `synchronous = NORMAL` and a 5 s busy timeout; the
    /// pool holds up to [`MAX_CONNECTIONS`] and does not ping a connection
    /// before handing it out (nothing can hang up on an embedded database).
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path.as_ref())
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal);
        let pool_options = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            // An embedded database has no network peer that could hang up:
            // skip the ping sqlx otherwise sends on every acquire (it doubles
            // the cost of a point lookup).
            .test_before_acquire(false);
        // Switching a new file to WAL needs an exclusive lock that SQLite does
        // not wait for (no busy handler): a pool or process opening the same
        // new file while another one is switching or migrating it gets
        // SQLITE_BUSY at once. Retry that within the busy timeout; once the
        // file is in WAL mode, the pragma is a no-op that needs no lock.
        let started = std::time::Instant::now();
        let pool = loop {
            match pool_options.clone().connect_with(options.clone()).await {
                Err(e) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                connected => break connected.map_err(db_err)?,
            }
        };
        Self::migrated(pool).await
    }

    /// Opens a private, empty in-memory database (for tests and demos).
    ///
    /// An in-memory SQLite database lives as long as its connection, and every
    /// connection to `:memory:` is a separate database; so the pool holds
    /// exactly one connection that is never closed for idleness or age.
    /// Concurrent callers queue for it, which also serialises all writes.
    pub async fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        Self::migrated(pool).await
    }

    /// Wraps an existing pool and runs the migrations on it.
    ///
    /// The pool's connections should have `foreign_keys` on and a busy
    /// timeout, as [`SqliteStore::open`] sets them.
    pub async fn from_pool(pool: SqlitePool) -> Result<SqliteStore, StoreError> {
        Self::migrated(pool).await
    }

    /// The underlying connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Runs the migrations while holding SQLite's write lock (`BEGIN
    /// IMMEDIATE`; each migration is a savepoint inside it), so pools or
    /// processes opening a new file at the same time wait for the first one
    /// and then find the schema in place, instead of racing on `CREATE TABLE`.
    async fn migrated(pool: SqlitePool) -> Result<SqliteStore, StoreError> {
        {
            let mut conn = pool.acquire().await.map_err(db_err)?;
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
            // `run_direct` is `Migrator::run` on a plain connection; `run(&mut *tx)`
            // trips the "`Acquire` is not general enough" Send-bound issue
            // when the future is spawned.
            MIGRATOR
                .run_direct(None, &mut *tx, false)
                .await
                .map_err(StoreError::backend)?;
            tx.commit().await.map_err(db_err)?;
        }
        Ok(SqliteStore {
            pool,
            writer: Arc::new(Mutex::new(())),
        })
    }

    /// Starts a write transaction that holds SQLite's write lock from the
    /// start (`BEGIN IMMEDIATE`), after waiting for this store's writer turn
    /// (taken before a pooled connection, so queued writers do not hold
    /// connections readers need). Dropping it without `commit` rolls back, so
    /// every `?` on an error path rolls back.
    async fn begin_write(&self) -> StoreResult<WriteTx> {
        let turn = self.writer.clone().lock_owned().await;
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)?;
        Ok(WriteTx { tx, _turn: turn })
    }

    /// Waits for this store's writer turn, for a single-statement write
    /// outside [`SqliteStore::begin_write`] on a hot path.
    async fn writer_turn(&self) -> OwnedMutexGuard<()> {
        self.writer.clone().lock_owned().await
    }
}

/// Commits a write transaction (then gives its writer turn up), mapping the error.
async fn commit(tx: WriteTx) -> StoreResult<()> {
    let WriteTx { tx, _turn } = tx;
    tx.commit().await.map_err(db_err)
}

/// `SQLITE_BUSY` (5) or one of its extended codes (`SQLITE_BUSY_*`).
fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(dbe) => dbe
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| c & 0xff == 5),
        _ => false,
    }
}

/// Maps a sqlx error into the store vocabulary: unique violations (SQLite
/// extended codes 2067 and 1555) with their stable constraint name, foreign
/// key violations (787), everything else (including `SQLITE_BUSY` after the
/// busy timeout) as [`StoreError::Backend`].
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(dbe) = &e {
        match dbe.kind() {
            ErrorKind::UniqueViolation => {
                return StoreError::UniqueViolation {
                    constraint: unique_constraint_name(dbe.message()),
                };
            }
            ErrorKind::ForeignKeyViolation => return StoreError::ForeignKey,
            _ => {}
        }
    }
    StoreError::backend(e)
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db_err)
    }
}
