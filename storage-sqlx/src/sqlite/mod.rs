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
//! # Group commit
//!
//! The chat's hot writes — `insert_message` and
//! `insert_ticket_with_first_message` — do not run a transaction each. They
//! queue to the store's writer task, which takes everything queued at that
//! moment (up to [`MAX_BATCH`] calls; a lone call is written at once, never
//! held back to wait for company), takes its turn on the mutex like every
//! other write, writes the whole batch in one `BEGIN IMMEDIATE` transaction
//! and answers every caller once it has committed. Each call still gets its
//! own outcome, exactly as if it had run alone (`Inserted`, `Duplicate`,
//! `NotFound`, `Conflict`, a unique or foreign-key violation); a failing call
//! never fails or rolls back the others. If the commit itself fails, nothing
//! of the batch is stored and every caller gets the error. The batch is
//! written with a handful of set-based statements whatever its size (the
//! batch as one JSON parameter, so each statement is prepared once); see
//! `group_commit/` for the plan and its fallback. A caller that stops
//! waiting (its future dropped) does not withdraw its call: it may still be
//! committed, as an answer lost on the way would be; `client_msg_id` makes a
//! retry safe.
//!
//! The writer keeps a connection of its own with a warm page cache (on a
//! file; an in-memory database has only its one pooled connection), and a
//! thread of its own that runs each batch's statements on that connection's
//! raw handle, so a batch crosses between threads once rather than once per
//! statement list. It ends when the last handle of the store is dropped,
//! after writing what is still queued; [`SqliteStore::tasks`] watches it.
//!
//! # Durability
//!
//! An answered write has been committed: its pages are in the WAL file, and
//! the answer was sent only after `COMMIT` returned. With the WAL journal
//! and `synchronous = NORMAL` a committed transaction survives the process
//! crashing or being killed (`kill -9`: the written WAL is in the operating
//! system's hands, and the next open recovers it). It is not synced to the
//! disk on every commit, so a power loss or operating-system crash may lose
//! the last transactions (never corrupting the database). That is the
//! promise: **process-crash safe**. (`synchronous = FULL` would sync every
//! group commit; one sync per batch, not per message, is then the cost.)
//!
//! # Checkpoints
//!
//! Commits never copy the WAL back into the database file
//! (`wal_autocheckpoint = 0` on the connections [`SqliteStore::open`]
//! makes): a background task does, beside the writers, and keeps the WAL
//! bounded — a `PASSIVE` checkpoint after about [`CHECKPOINT_WAL_BYTES`] of
//! commits or every [`CHECKPOINT_INTERVAL`], a short catch-up pass under the
//! writer turn once the WAL holds [`RESTART_WAL_BYTES`] so that SQLite starts
//! it over, and a `TRUNCATE` checkpoint (holding the writers back) should it
//! still exceed [`TRUNCATE_WAL_BYTES`]. See `checkpoint.rs`.
//!
//! # Search and layout
//!
//! Ticket text search uses an FTS5 index in a database file of its own
//! beside the chat database (`<database>-search`, migration 0008), with a
//! write lock of its own: a background indexer follows the messages and
//! tickets by their storage positions, so indexing and merging the index
//! never hold up a commit of the chat. A text search first indexes what is
//! still new, so it finds everything committed before it. The file is
//! derived data, rebuilt when missing. See `search/`. Every ticket listing
//! and background queue reads an index, which [`SqliteStore::query_plan`]
//! shows (and the tests check).
//!
//! Layout: one file per storage trait, plus `search` (the full-text index
//! and its indexer task), `plans` (query plans), `group_commit` (the writer
//! task), `checkpoint` (the checkpoint task), `low_priority` (connections
//! for background work) and `json` (a batch as one parameter); shared
//! representation helpers live in `crate::common` so a PostgreSQL store can
//! sit beside this one.

mod audit;
mod categories;
mod checkpoint;
mod cols;
mod group_commit;
mod json;
mod low_priority;
mod messages;
mod outbox;
mod plans;
mod search;
mod sessions;
mod tickets;
mod users;

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use neurochat_core::ports::{Store, StoreError, StoreResult};
use sqlx::error::ErrorKind;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, SqliteConnection, Transaction};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard};

use crate::common::unique_constraint_name;
use group_commit::GroupCommit;
use search::SearchIndex;

pub use checkpoint::{
    CHECKPOINT_INTERVAL, CHECKPOINT_WAL_BYTES, RESTART_WAL_BYTES, TRUNCATE_WAL_BYTES,
};
pub use group_commit::MAX_BATCH;
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
    /// The queue of the group-commit writer (see the module docs).
    group: GroupCommit,
    /// The full-text index (see the module docs).
    search: SearchIndex,
    /// The writer, checkpoint and indexer tasks, for [`SqliteStore::tasks`].
    tasks: StoreTasks,
}

/// Watches the background tasks of a [`SqliteStore`] — its group-commit
/// writer, its search indexer and, for a WAL file, its checkpoint task —
/// without keeping the store alive (see [`SqliteStore::tasks`]).
#[derive(Debug, Clone, Default)]
pub struct StoreTasks(Arc<Background>);

#[derive(Debug, Default)]
struct Background {
    running: AtomicUsize,
    stopped: Notify,
    transactions: AtomicU64,
    calls: AtomicU64,
    replayed: AtomicU64,
    restarts: AtomicU64,
    restarts_ahead: AtomicU64,
    database_syncs: AtomicU64,
    /// Write batches of one call with that call's own statements (see
    /// [`SqliteStore::plan_single_calls`]).
    single_own_statements: AtomicBool,
}

/// What the group-commit writer of a store has done so far (see
/// [`StoreTasks::group_commits`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupCommits {
    /// Transactions committed.
    pub transactions: u64,
    /// Calls (`insert_message`, `insert_ticket_with_first_message`)
    /// answered from them, each with its own outcome.
    pub calls: u64,
    /// Batches the set-based plan could not write (a statement refused
    /// something the plan did not check), written again one call at a time.
    pub replayed: u64,
}

/// What the checkpoint task of a store has done so far (see
/// [`StoreTasks::checkpoints`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckpointCounts {
    /// Times the WAL was copied whole under the writer turn so that the
    /// next commit starts it over.
    pub restarts: u64,
    /// Times the database file was synced off the writer turn before such
    /// a last pass, so that the pass's own sync had little to write.
    pub database_syncs: u64,
    /// Times the task started a fully copied WAL over while the writers
    /// were quiet, so that the next commit did not have to (and to sync
    /// the new WAL header first).
    pub restarts_ahead: u64,
}

/// Held by a running background task; dropping it (the task ending, or
/// being dropped with its runtime) counts the task out.
pub(crate) struct TaskGuard(Arc<Background>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.stopped.notify_waiters();
        }
    }
}

impl StoreTasks {
    /// How many of the store's background tasks are still running: 3 for a
    /// WAL file (writer, checkpoint task, search indexer), 2 for an
    /// in-memory database, 0 once the store has been dropped and its tasks
    /// have finished.
    pub fn running(&self) -> usize {
        self.0.running.load(Ordering::Acquire)
    }

    /// Waits until every background task has finished (after the last
    /// handle of the store was dropped, the writer writes what is still
    /// queued first; the indexer ends with it, or when the pool is closed).
    pub async fn stopped(&self) {
        loop {
            let stopped = self.0.stopped.notified();
            tokio::pin!(stopped);
            stopped.as_mut().enable();
            if self.running() == 0 {
                return;
            }
            stopped.await;
        }
    }

    /// The group-commit writer's counters.
    pub fn group_commits(&self) -> GroupCommits {
        GroupCommits {
            transactions: self.0.transactions.load(Ordering::Acquire),
            calls: self.0.calls.load(Ordering::Acquire),
            replayed: self.0.replayed.load(Ordering::Acquire),
        }
    }

    /// The checkpoint task's counters (zero for an in-memory database).
    pub fn checkpoints(&self) -> CheckpointCounts {
        CheckpointCounts {
            restarts: self.0.restarts.load(Ordering::Acquire),
            database_syncs: self.0.database_syncs.load(Ordering::Acquire),
            restarts_ahead: self.0.restarts_ahead.load(Ordering::Acquire),
        }
    }

    /// Counts a task in; the task holds the guard until it ends.
    fn start(&self) -> TaskGuard {
        self.0.running.fetch_add(1, Ordering::AcqRel);
        TaskGuard(self.0.clone())
    }

    /// Counts a committed group transaction of `calls` calls.
    fn committed(&self, calls: usize) {
        self.0.calls.fetch_add(calls as u64, Ordering::AcqRel);
        self.0.transactions.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts a WAL restart's last pass.
    fn restarted(&self) {
        self.0.restarts.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts a WAL started over while the writers were quiet.
    fn restarted_ahead(&self) {
        self.0.restarts_ahead.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts a sync of the database file before a restart's last pass.
    fn synced_database(&self) {
        self.0.database_syncs.fetch_add(1, Ordering::AcqRel);
    }

    /// Counts a batch written again one call at a time.
    fn replayed(&self) {
        self.0.replayed.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether a batch of one call is planned like a bigger one.
    fn plans_single_calls(&self) -> bool {
        !self.0.single_own_statements.load(Ordering::Relaxed)
    }

    /// Group transactions committed so far.
    fn transactions(&self) -> u64 {
        self.0.transactions.load(Ordering::Acquire)
    }
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
    /// schema up to date; the full-text index goes to `<path>-search` beside
    /// it (created, or rebuilt in the background, when missing).
    ///
    /// The file is created when missing, but its parent directory must exist:
    /// the store never creates directories (a mistyped path should fail loudly
    /// rather than scatter directories). Connections use the WAL journal,
    /// `foreign_keys = ON`, `synchronous = NORMAL` and a 5 s busy timeout,
    /// never checkpoint on commit (`wal_autocheckpoint = 0`: the store's
    /// checkpoint task does) and cut the WAL file back to twice
    /// [`RESTART_WAL_BYTES`] when SQLite starts it over
    /// (`journal_size_limit`); the pool holds up to [`MAX_CONNECTIONS`] and
    /// does not ping a connection before handing it out (nothing can hang up
    /// on an embedded database). The group-commit writer takes one more
    /// connection of its own.
    ///
    /// Starts the store's background tasks (see the module docs), so it must
    /// be called within a Tokio runtime; the store should be used there too.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path.as_ref())
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal)
            // Checkpoints run beside the writers (`checkpoint.rs`), never
            // inside a commit; the WAL file shrinks back to this size when
            // SQLite starts it over.
            .pragma("wal_autocheckpoint", "0")
            .pragma("journal_size_limit", CHECKPOINT_LIMIT);
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
    /// timeout, as [`SqliteStore::open`] sets them — and, on a WAL file,
    /// `wal_autocheckpoint = 0` and a `journal_size_limit` (twice
    /// [`RESTART_WAL_BYTES`]) to leave checkpoints to the store's task (with
    /// SQLite's default, commits that fill the WAL past 1000 pages also
    /// checkpoint). The group-commit writer detaches one connection from the
    /// pool for itself (the pool may open a replacement). The full-text
    /// index gets a small pool of its own, with the pool's connect options
    /// and `<file>-search` attached; on an in-memory pool (one connection
    /// that never closes, as [`SqliteStore::open_in_memory`] makes) it is
    /// attached to that connection.
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
        let wal = {
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
            wal_file(&mut conn).await?
        };
        let (search, indexer) = SearchIndex::open(&pool).await.map_err(db_err)?;
        let writer = Arc::new(Mutex::new(()));
        let tasks = StoreTasks::default();
        let group = GroupCommit::start(&pool, &writer, wal, search.waker(), search.turn(), &tasks);
        if tokio::runtime::Handle::try_current().is_ok() {
            search::spawn_indexer(pool.clone(), indexer, &tasks);
        }
        Ok(SqliteStore {
            pool,
            writer,
            group,
            search,
            tasks,
        })
    }

    /// The store's background tasks (group-commit writer, checkpoint task,
    /// search indexer), to see them end after the store is dropped.
    pub fn tasks(&self) -> StoreTasks {
        self.tasks.clone()
    }

    /// Whether batches of one call are written with the set-based plan of
    /// bigger batches (the default, on the writer's own thread) or with
    /// that call's own statements (through sqlx: the path a batch falls back
    /// to call by call). For the tests: the conformance
    /// suite calls mostly one at a time, and runs once more with this off to
    /// check the single-call statements against the contract.
    #[doc(hidden)]
    pub fn plan_single_calls(&self, on: bool) {
        self.tasks
            .0
            .single_own_statements
            .store(!on, Ordering::Relaxed);
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

    /// Indexes everything committed so far that the full-text index lacks
    /// (the store indexes in the background; a text search does this first
    /// by itself). One transaction of the index's file; a read when there
    /// is nothing new.
    pub async fn flush_search_index(&self) -> StoreResult<()> {
        self.search.catch_up().await.map_err(db_err)?;
        Ok(())
    }

    /// The pool of the full-text index: connections to this database with
    /// the index attached as `search` (`search.ticket_search`,
    /// `search.search_state`). For tests and diagnostics; never write the
    /// chat database through it.
    #[doc(hidden)]
    pub fn search_pool(&self) -> &SqlitePool {
        self.search.pool()
    }

    /// The file of the full-text index (`<database>-search`), `None` for an
    /// in-memory store.
    pub fn search_file(&self) -> Option<&Path> {
        self.search.file().map(Path::new)
    }

    /// Waits for this store's writer turn, for a single-statement write
    /// outside [`SqliteStore::begin_write`] on a hot path.
    async fn writer_turn(&self) -> OwnedMutexGuard<()> {
        self.writer.clone().lock_owned().await
    }
}

/// `journal_size_limit` of the connections [`SqliteStore::open`] makes:
/// twice the size at which the checkpoint task starts the WAL over, so a
/// WAL that starts over as planned keeps its file (overwriting is cheaper
/// than cutting and growing it again), and one that grew further is cut
/// back.
const CHECKPOINT_LIMIT: &str = "268435456";
const _: () = assert!(checkpoint::RESTART_WAL_BYTES * 2 == 268_435_456);

/// The WAL file of the database `conn` is on, if it is a file in WAL mode.
async fn wal_file(conn: &mut SqliteConnection) -> StoreResult<Option<PathBuf>> {
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
    let file: Option<String> =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
    Ok(match file {
        Some(file) if !file.is_empty() && mode.eq_ignore_ascii_case("wal") => {
            Some(PathBuf::from(format!("{file}-wal")))
        }
        _ => None,
    })
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
/// Runs a `SELECT` with one key parameter that matches at most one row, and
/// maps the row.
pub(crate) async fn fetch_one<'e, E, T>(
    exec: E,
    sql: &'static str,
    key: String,
    map: fn(&sqlx::sqlite::SqliteRow) -> StoreResult<T>,
) -> StoreResult<Option<T>>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query(sql)
        .bind(key)
        .fetch_optional(exec)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(map)
        .transpose()
}

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
