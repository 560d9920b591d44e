//! The writer's thread: it writes each batch the writer task hands it, on
//! the raw handle of an sqlx connection, and answers its callers.
//!
//! sqlx runs every SQLite connection on a thread of its own and talks to it
//! once per statement list: a planned batch took three round trips, each two
//! thread switches plus a wake-up on either side. On a busy core those cost
//! more than the statements (at 5,000 messages a second: ~9,000 switches a
//! second on the connection's thread, a quarter of its time). So the batch
//! crosses to a thread once, and that thread runs the statements itself:
//! it takes the lock of an sqlx connection (`lock_handle`, which parks
//! sqlx's own thread) and drives the connection through [`rusqlite`] over
//! the same handle — the pragmas, page cache and file of the connection sqlx
//! opened, with none of its round trips. The writer task still forms the
//! batches (on the runtime, where the callers run) and holds the writer turn
//! while the thread writes.
//!
//! On a database file the thread keeps the writer's own connection locked
//! from batch to batch. What only sqlx runs — a batch of one call with its
//! own statements, the replay of a batch the plan could not write, a
//! `TRUNCATE` checkpoint — unlocks it first. An in-memory database lends
//! its one pooled connection per batch.

use std::sync::mpsc;

use neurochat_core::ports::{StoreError, StoreResult};
use sqlx::SqliteConnection;
use sqlx::sqlite::LockedSqliteHandle;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::write::{Planned, write_planned, write_unplanned};
use super::{Job, Outcome, WalWatch, answer, writer_connection};
use crate::sqlite::cols::raw_err;
use crate::sqlite::{StoreTasks, TaskGuard, checkpoint, db_err};

/// A batch for the thread, and where it sends the emptied job vector back
/// once every caller has its answer.
pub(super) struct Batch {
    pub(super) jobs: Vec<Job>,
    pub(super) done: oneshot::Sender<Vec<Job>>,
}

/// What the thread needs besides its batches.
pub(super) struct Writer {
    pub(super) runtime: Handle,
    pub(super) pool: sqlx::SqlitePool,
    pub(super) watch: Option<WalWatch>,
    /// Wakes the search indexer; dropped when the thread ends, which ends it.
    pub(super) indexer: tokio::sync::mpsc::Sender<()>,
    pub(super) tasks: StoreTasks,
}

/// Starts the thread; it ends when `batches`' sender is dropped (the writer
/// task ended) and counts itself out of the store's tasks then.
pub(super) fn spawn(
    writer: Writer,
    batches: mpsc::Receiver<Batch>,
    running: TaskGuard,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("neurochat-writer".into())
        .spawn(move || {
            let mut writer = writer;
            writer.serve(&batches);
            drop(running);
        })
        .map(drop)
}

/// How a run of batches on the raw connection ended.
enum Flow {
    /// The lent connection wrote its batch (in-memory database).
    Done,
    /// No more batches: the writer task ended.
    Closed,
    /// The next batch, for the outer loop (the pool was closed meanwhile).
    Next(Batch),
    /// The batch goes through sqlx: `replay` after a failed plan, else one
    /// call with its own statements.
    Sqlx { batch: Batch, replay: bool },
    /// The WAL outgrew its bound; the batch before was written.
    Truncate,
    /// The connection could not be locked or wrapped.
    Failed(Batch, StoreError),
}

impl Writer {
    fn serve(&mut self, batches: &mpsc::Receiver<Batch>) {
        // sqlx's futures and pooled connections need the runtime's context.
        let _runtime = self.runtime.enter();
        let mut own: Option<SqliteConnection> = None;
        let mut next = None;
        loop {
            let batch = match next.take() {
                Some(batch) => batch,
                None => match batches.recv() {
                    Ok(batch) => batch,
                    Err(_) => return,
                },
            };
            if self.pool.is_closed() {
                // Closing the pool closes the writer's connection too: calls
                // then fail as every other store method does.
                own = None;
            } else if self.watch.is_some() && own.is_none() {
                own = self.runtime.block_on(writer_connection(&self.pool));
            }
            // The writer's own connection serves batch after batch; a lent
            // one only this one.
            let more = own.is_some().then_some(batches);
            let mut lent = None;
            let conn = match own.as_mut() {
                Some(conn) => conn,
                None => match self.runtime.block_on(self.pool.acquire()) {
                    Ok(conn) => &mut **lent.insert(conn),
                    Err(e) => {
                        self.finish(batch, Err(db_err(e)));
                        continue;
                    }
                },
            };
            match self.raw_batches(conn, batch, more) {
                Flow::Done => {}
                Flow::Closed => return,
                Flow::Next(batch) => next = Some(batch),
                Flow::Sqlx { batch, replay } => {
                    let written = self.runtime.block_on(write_unplanned(
                        conn,
                        &batch.jobs,
                        &self.tasks,
                        replay,
                    ));
                    let failed = written.is_err();
                    self.finish(batch, written);
                    if failed {
                        // Start over on a fresh connection, in case this one is broken.
                        own = None;
                    } else if let Some(watch) = &self.watch {
                        let _ = watch.nudge.try_send(());
                    }
                }
                Flow::Truncate => {
                    if let Some(watch) = &self.watch {
                        self.runtime
                            .block_on(checkpoint::truncate(conn, &watch.shared));
                    }
                }
                Flow::Failed(batch, e) => {
                    self.finish(batch, Err(e));
                    own = None;
                }
            }
        }
    }

    /// Writes `first`, then (with `more`) every batch that follows, on the
    /// raw handle of `conn`, until one needs sqlx or the batches end.
    fn raw_batches(
        &mut self,
        conn: &mut SqliteConnection,
        first: Batch,
        more: Option<&mpsc::Receiver<Batch>>,
    ) -> Flow {
        let mut locked = match self.runtime.block_on(conn.lock_handle()) {
            Ok(locked) => locked,
            Err(e) => return Flow::Failed(first, db_err(e)),
        };
        let db = match raw_connection(&mut locked) {
            Ok(db) => db,
            Err(e) => return Flow::Failed(first, e),
        };
        let mut batch = first;
        loop {
            let outcomes = match write_planned(&db, &batch.jobs, &self.tasks) {
                Planned::Written(outcomes) => outcomes,
                Planned::Unplanned { replay } => return Flow::Sqlx { batch, replay },
            };
            self.finish(batch, Ok(outcomes));
            if let Some(watch) = &mut self.watch {
                // Full: a nudge is already pending.
                let _ = watch.nudge.try_send(());
                // The checkpoint task fell behind (the disk is slower than
                // the writes, or readers kept old snapshots): empty the WAL
                // now, before the next batch, so it cannot grow without bound.
                if watch.wal.over_truncate_bound() {
                    return Flow::Truncate;
                }
            }
            let Some(more) = more else {
                return Flow::Done;
            };
            batch = match more.recv() {
                Ok(batch) => batch,
                Err(_) => return Flow::Closed,
            };
            if self.pool.is_closed() {
                return Flow::Next(batch);
            }
        }
    }

    /// Answers every caller of `batch` (waking the indexer if rows were
    /// inserted) and gives the job vector back to the writer task.
    fn finish(&self, batch: Batch, written: StoreResult<Vec<Outcome>>) {
        if let Ok(outcomes) = &written
            && outcomes.iter().any(Outcome::inserted)
        {
            // New rows for the search index (full: a wake-up is pending).
            let _ = self.indexer.try_send(());
        }
        let Batch { mut jobs, done } = batch;
        answer(&mut jobs, written);
        let _ = done.send(jobs);
    }
}

/// A [`rusqlite::Connection`] over the handle `locked` holds.
#[allow(unsafe_code)]
fn raw_connection(locked: &mut LockedSqliteHandle<'_>) -> StoreResult<rusqlite::Connection> {
    let handle = locked.as_raw_handle().as_ptr();
    // SAFETY: the handle is a live connection, and stays one for as long as
    // `locked` is held: sqlx closes it only when its connection is dropped,
    // which the borrow behind `locked` rules out, and its own thread is
    // parked on the lock `locked` holds, so nothing else uses it meanwhile.
    // The returned connection borrows nothing but is dropped (at the end of
    // `raw_batches`) before `locked`, and it never closes the handle
    // (`from_handle`, not `from_handle_owned`). Both sides are built on the
    // same `libsqlite3-sys`, so this is the same library's handle.
    let db = unsafe { rusqlite::Connection::from_handle(handle) }.map_err(raw_err)?;
    // Every statement a batch runs stays prepared (about fifteen).
    db.set_prepared_statement_cache_capacity(32);
    Ok(db)
}
