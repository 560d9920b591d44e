//! The indexer task: keeps the full-text index up with the chat database in
//! the background, on a connection of its own whose SQLite thread runs at a
//! lower CPU priority (`low_priority.rs`), so on a busy core it indexes when
//! the writers and the gateway have nothing to do.
//!
//! It wakes when the group-commit writer (or an erasure) committed rows,
//! waits [`GATHER`] for more to come, and indexes [`INDEX_CHUNK`] rows per
//! transaction until it is caught up, giving the index's turn back between
//! transactions (a text search waiting to catch up gets in). Every
//! [`POLL`] it also looks for rows another process wrote. It ends with the
//! store: once every store handle and the writer are gone, or the store's
//! pool was closed.

use std::time::Duration;

use sqlx::{SqliteConnection, SqlitePool};

use super::super::{StoreTasks, low_priority};
use super::{INDEX_CHUNK, IndexHandle, IndexerParts, attach};

/// How long the indexer lets commits gather after a wake-up: the index
/// then takes tens of rows per transaction rather than a few, so fewer,
/// larger segments to merge later (a search catches up by itself).
const GATHER: Duration = Duration::from_millis(25);

/// How often the indexer looks for rows nobody told it about.
const POLL: Duration = Duration::from_secs(5);

/// After a failed transaction, the indexer waits this long before the
/// next try.
const RETRY: Duration = Duration::from_secs(1);

/// Starts the indexer task of a store whose chat database is `main`.
pub(in crate::sqlite) fn spawn(main: SqlitePool, parts: IndexerParts, tasks: &StoreTasks) {
    let guard = tasks.start();
    tokio::spawn(async move {
        let _guard = guard;
        run(main, parts).await;
    });
}

async fn run(main: SqlitePool, parts: IndexerParts) {
    let IndexerParts { index, mut wake } = parts;
    let mut own = Own::open(&index).await;
    // Rows committed before the store opened (a rebuilt or new index).
    let mut due = true;
    loop {
        if !due {
            tokio::select! {
                woken = wake.recv() => {
                    if woken.is_none() {
                        break;
                    }
                }
                () = tokio::time::sleep(POLL) => {}
                () = main.close_event() => break,
            }
            tokio::time::sleep(GATHER).await;
            // Wake-ups that came meanwhile are covered by this round.
            while wake.try_recv().is_ok() {}
        }
        if main.is_closed() {
            break;
        }
        due = false;
        loop {
            let step = {
                let _turn = index.turn.lock().await;
                own.step(&index).await
            };
            match step {
                // The store is going away: leave the rest to the next open
                // (a shutdown need not wait for a large backlog).
                Ok(_) if wake.is_closed() || main.is_closed() => break,
                Ok(step) if step.more => tokio::task::yield_now().await,
                Ok(_) => break,
                Err(error) => {
                    if main.is_closed() {
                        break;
                    }
                    tracing::warn!(%error, "search indexing failed; retrying (a search catches up by itself)");
                    tokio::time::sleep(RETRY).await;
                    due = true;
                    break;
                }
            }
        }
    }
    // The index's pool is the store's own pool for an in-memory store.
    if index.file.is_some() {
        index.pool.close().await;
    }
}

/// The indexer's own low-priority connection, or `None` (an in-memory
/// store, or it could not be opened): then it indexes on the index's pool.
struct Own(Option<SqliteConnection>);

impl Own {
    async fn open(index: &IndexHandle) -> Own {
        let Some(file) = index.file.as_deref() else {
            return Own(None);
        };
        let options = index.pool.connect_options().as_ref().clone();
        let conn = match low_priority::connect(options).await {
            Ok(mut conn) => match attach(&mut conn, Some(file)).await {
                Ok(()) => Some(conn),
                Err(error) => {
                    tracing::debug!(%error, "search indexing runs on the index's pool");
                    None
                }
            },
            Err(error) => {
                tracing::debug!(%error, "search indexing runs on the index's pool");
                None
            }
        };
        Own(conn)
    }

    /// One indexing transaction of [`INDEX_CHUNK`] rows at most; the caller
    /// holds the index's turn.
    async fn step(&mut self, index: &IndexHandle) -> Result<super::Step, sqlx::Error> {
        match self.0.as_mut() {
            Some(conn) => {
                let done = index.step(conn, INDEX_CHUNK).await;
                if done.is_err() {
                    // Start over on the pool, in case the connection broke.
                    self.0 = None;
                }
                done
            }
            None => {
                let mut conn = index.pool.acquire().await?;
                index.step(&mut conn, INDEX_CHUNK).await
            }
        }
    }
}
