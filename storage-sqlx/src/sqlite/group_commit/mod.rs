//! Group commit: every `insert_message` and `insert_ticket_with_first_message`
//! of a store goes to one writer task, which writes whatever is queued (up
//! to [`MAX_BATCH`] calls) in one `BEGIN IMMEDIATE` transaction and answers
//! each caller after the commit.
//!
//! # A batch
//!
//! The writer task takes what is queued right now — a lone call is written
//! at once, never held back to wait for company — and then its turn on the
//! store's write mutex (so it never meets the other write paths inside
//! SQLite's lock), tops the batch up with what arrived meanwhile, and hands
//! it to the writer's thread (`raw.rs`), which runs every statement of the
//! batch on the raw handle of an sqlx connection and answers the callers:
//! one crossing between threads per batch, where sqlx takes one per
//! statement list. Every batch, even of one call, is planned:
//!
//! 1. `BEGIN IMMEDIATE` and the set-based reads (the batch's ids as one
//!    JSON parameter each) of what the calls depend on: their tickets, the
//!    messages a `client_msg_id` may repeat, and — when tickets are opened —
//!    the first messages a ticket may repeat, the ticket counter and which
//!    users, categories and message ids exist;
//! 2. plans every call in order (tickets opened first, then messages, each
//!    kind in queue order; every call of a batch is pending at once, so any
//!    order is one they could have run in): each call gets its own outcome
//!    exactly as one call alone would — `Inserted`, `Duplicate` of a stored
//!    message or of one earlier in the batch, `NotFound`, `Conflict` on a
//!    closed ticket, a unique or foreign-key violation — from the same rules
//!    (the ticket effects are [`apply_effects`], the Rust twin of the SQL the
//!    one-at-a-time path runs);
//! 3. writes the planned rows: the ticket counter,
//!    the new tickets, all messages, and the final state of every ticket a
//!    message touched — one `UPDATE` per column group, each only for the
//!    tickets whose values it changes (SQLite rewrites a row's entries in
//!    every index on a column an `UPDATE` sets, even to the same value:
//!    a customer message usually changes neither status nor waiting, so
//!    their indexes are left alone) — and checks they changed exactly the
//!    planned rows;
//! 4. commits, answers every caller and wakes the search indexer (which
//!    indexes the new rows from its own file, `search/`).
//!
//! A call that fails never fails the others: planned failures write nothing.
//! What the plan does not foresee — a foreign key or message id it did not
//! check (message-only batches leave those to SQLite), anything else a
//! statement refuses — rolls the whole attempt back, and the batch is written
//! again through sqlx one call at a time, each in its own savepoint, with the statements
//! of the single-call path ([`insert_message_on`], [`insert_ticket_on`]);
//! there a failing call rolls back only its own savepoint. If the commit
//! itself fails, nothing of the batch is stored and every caller gets the
//! error.
//!
//! # Lifetime
//!
//! The queue's senders live in the store's handles; the writer owns the
//! receiver and a pool handle, never a store. When the last handle of the
//! store is dropped, the queue closes, the writer writes what is still
//! queued and ends, and with it its thread and the checkpoint task
//! (`checkpoint.rs`). A call
//! that finds no writer (its runtime has shut down) writes alone, in a
//! transaction of its own.
//!
//! [`insert_message_on`]: super::messages::insert_message_on
//! [`insert_ticket_on`]: super::tickets::insert_ticket_on
//! [`apply_effects`]: super::tickets::apply_effects

use std::path::PathBuf;
use std::sync::Arc;

use neurochat_core::domain::{InsertMessage, Message, NewMessage, Ticket};
use neurochat_core::ports::{StoreError, StoreResult};
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::StoreTasks;
use super::checkpoint;

mod plan;
mod raw;
mod write;

pub(super) use write::{
    DUPLICATES_SQL, FIRST_MESSAGES_SQL, KNOWN_SQL, TICKET_UPDATE_STATEMENTS, TICKETS_SQL,
};

/// The most calls one transaction writes.
pub const MAX_BATCH: usize = 512;

/// A queued call with the channel its answer goes back on.
// Moved once into the queue and once into the batch vector; boxing the
// ticket would only add an allocation per call.
#[allow(clippy::large_enum_variant)]
pub(super) enum Job {
    /// `insert_message`.
    Message {
        message: NewMessage,
        reply: oneshot::Sender<StoreResult<InsertMessage>>,
    },
    /// `insert_ticket_with_first_message`.
    Ticket {
        ticket: Ticket,
        first: NewMessage,
        reply: oneshot::Sender<StoreResult<(Ticket, Message)>>,
    },
}

/// The answer of one job, before it is sent.
enum Outcome {
    Message(StoreResult<InsertMessage>),
    Ticket(StoreResult<(Ticket, Message)>),
}

impl Outcome {
    fn is_ok(&self) -> bool {
        match self {
            Outcome::Message(r) => r.is_ok(),
            Outcome::Ticket(r) => r.is_ok(),
        }
    }

    /// Whether the call stored a new row (for the search index).
    fn inserted(&self) -> bool {
        matches!(
            self,
            Outcome::Message(Ok(InsertMessage::Inserted { .. })) | Outcome::Ticket(Ok(_))
        )
    }
}

/// A store handle's end of the writer's queue. Cloned with the store; the
/// queue closes when the last clone is dropped.
#[derive(Debug, Clone)]
pub(super) struct GroupCommit {
    queue: Option<mpsc::UnboundedSender<Job>>,
}

/// The writer went away after taking a call (its runtime shut down): the
/// call may or may not have been committed.
#[derive(Debug, thiserror::Error)]
#[error("the store's writer stopped before answering; the write may or may not have been stored")]
struct WriterStopped;

/// The error of a transaction that failed as a whole, shared by every call
/// of the batch.
#[derive(Debug, thiserror::Error)]
#[error("group commit of {calls} calls failed: {source}")]
struct BatchFailed {
    calls: usize,
    #[source]
    source: Arc<StoreError>,
}

impl GroupCommit {
    /// Starts the writer (and, for a WAL file at `wal`, the checkpoint task)
    /// on the current Tokio runtime. Without a runtime there is no writer and
    /// every call writes alone.
    pub(super) fn start(
        pool: &SqlitePool,
        turn: &Arc<Mutex<()>>,
        wal: Option<PathBuf>,
        indexer: mpsc::Sender<()>,
        indexing: Arc<Mutex<()>>,
        tasks: &StoreTasks,
    ) -> GroupCommit {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return GroupCommit { queue: None };
        };
        let (queue, jobs) = mpsc::unbounded_channel();
        let watch = wal.map(|wal| {
            let shared = Arc::new(checkpoint::Checkpoints::default());
            // Capacity 1: a nudge while one is pending is dropped, not queued.
            let (nudge, nudges) = mpsc::channel(1);
            let turns = checkpoint::Turns {
                writer: turn.clone(),
                indexing,
            };
            runtime.spawn(checkpoint::run(
                pool.clone(),
                turns,
                checkpoint::WalSize::new(wal.clone()),
                shared.clone(),
                nudges,
                tasks.clone(),
                tasks.start(),
            ));
            WalWatch {
                wal: checkpoint::WalSize::new(wal),
                shared,
                nudge,
            }
        });
        let (thread, batches) = std::sync::mpsc::channel();
        let writer = raw::Writer {
            runtime: runtime.clone(),
            pool: pool.clone(),
            watch,
            indexer,
            tasks: tasks.clone(),
        };
        if let Err(error) = raw::spawn(writer, batches, tasks.start()) {
            tracing::warn!(%error, "no thread for the group-commit writer: every call writes alone");
            return GroupCommit { queue: None };
        }
        runtime.spawn(run(turn.clone(), jobs, thread));
        GroupCommit { queue: Some(queue) }
    }

    /// Queues `message`; `None` if there is no writer to take it.
    pub(super) async fn insert_message(
        &self,
        message: &NewMessage,
    ) -> Option<StoreResult<InsertMessage>> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Message {
            message: message.clone(),
            reply,
        };
        self.queue.as_ref()?.send(job).ok()?;
        Some(
            answer
                .await
                .unwrap_or_else(|_| Err(StoreError::backend(WriterStopped))),
        )
    }

    /// Queues `messages` one after another, with nothing of another caller
    /// between them, and waits for every answer; `None` if there is no writer
    /// (nothing was queued).
    pub(super) async fn insert_messages(
        &self,
        messages: &[NewMessage],
    ) -> Option<Vec<StoreResult<InsertMessage>>> {
        let queue = self.queue.as_ref()?;
        let mut answers = Vec::with_capacity(messages.len());
        for message in messages {
            let (reply, answer) = oneshot::channel();
            let job = Job::Message {
                message: message.clone(),
                reply,
            };
            if queue.send(job).is_err() {
                // The writer went away between two sends: what was queued
                // may be written; the rest is answered as stopped.
                answers.push(None);
                continue;
            }
            answers.push(Some(answer));
        }
        if answers.first().is_some_and(Option::is_none) {
            return None;
        }
        let mut outcomes = Vec::with_capacity(answers.len());
        for answer in answers {
            outcomes.push(match answer {
                Some(a) => a
                    .await
                    .unwrap_or_else(|_| Err(StoreError::backend(WriterStopped))),
                None => Err(StoreError::backend(WriterStopped)),
            });
        }
        Some(outcomes)
    }

    /// Queues a ticket with its first message; `None` if there is no writer.
    pub(super) async fn insert_ticket(
        &self,
        ticket: &Ticket,
        first: &NewMessage,
    ) -> Option<StoreResult<(Ticket, Message)>> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Ticket {
            ticket: ticket.clone(),
            first: first.clone(),
            reply,
        };
        self.queue.as_ref()?.send(job).ok()?;
        Some(
            answer
                .await
                .unwrap_or_else(|_| Err(StoreError::backend(WriterStopped))),
        )
    }
}

/// The page cache of the writer's own connection, 16 MiB (a negative
/// `cache_size` is KiB): the pages batches touch stay cached from one batch
/// to the next.
const WRITER_CACHE_SQL: &str = "PRAGMA cache_size = -16384";

/// Statement journals of the writer's connection in memory: a set-based
/// statement that writes many rows keeps the pages it changes, so a failing
/// row can roll the statement back; on disk that is a temporary file
/// written, truncated and closed per statement.
const WRITER_TEMP_SQL: &str = "PRAGMA temp_store = MEMORY";

/// What the writer of a WAL file shares with the checkpoint task.
struct WalWatch {
    /// The WAL file, whose size is read now and then.
    wal: checkpoint::WalSize,
    shared: Arc<checkpoint::Checkpoints>,
    /// Wakes the checkpoint task after a commit; dropped when the writer ends.
    nudge: mpsc::Sender<()>,
}

/// The writer task: forms one batch after another until the queue is
/// closed and empty, each written by the writer's thread (`raw.rs`) while
/// the task holds the writer turn.
async fn run(
    turn: Arc<Mutex<()>>,
    mut queue: mpsc::UnboundedReceiver<Job>,
    thread: std::sync::mpsc::Sender<raw::Batch>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    loop {
        let received = queue.recv_many(&mut jobs, MAX_BATCH).await;
        if received == 0 {
            break;
        }
        // The callers the last answers woke are likely queued on this
        // thread right behind the writer: let them run (and queue their next
        // calls) before the batch is closed. No timer: with nothing else to
        // run this returns at once.
        tokio::task::yield_now().await;
        let my_turn = turn.lock().await;
        // Calls that arrived meanwhile (or while the other write paths had
        // the turn).
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (done, written) = oneshot::channel();
        let batch = raw::Batch {
            jobs: std::mem::take(&mut jobs),
            done,
        };
        if let Err(std::sync::mpsc::SendError(batch)) = thread.send(batch) {
            // The thread is gone (it panicked): nothing can be written.
            for job in batch.jobs {
                fail(job, StoreError::backend(WriterStopped));
            }
        } else if let Ok(emptied) = written.await {
            jobs = emptied;
        }
        // (A thread that dropped the batch unanswered dropped its callers'
        // reply channels: they see the writer as stopped.)
        drop(my_turn);
    }
}

/// The writer's own connection: a pooled one, detached, with a bigger page
/// cache and statement journals in memory. Its own because SQLite drops a
/// connection's whole page cache whenever another connection has written
/// since its last transaction, so a pooled one would start most batches
/// cold. `None` if the pool cannot give one (the batch then tries a pooled
/// connection, the next one tries again).
async fn writer_connection(pool: &SqlitePool) -> Option<SqliteConnection> {
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn.detach(),
        Err(error) => {
            tracing::warn!(%error, "no connection for the group-commit writer");
            return None;
        }
    };
    if let Err(error) = sqlx::query(WRITER_CACHE_SQL).execute(&mut conn).await {
        tracing::debug!(%error, "writer page cache left at its default");
    }
    if let Err(error) = sqlx::query(WRITER_TEMP_SQL).execute(&mut conn).await {
        tracing::debug!(%error, "writer statement journals left on disk");
    }
    Some(conn)
}

/// Sends every job its outcome (or the batch's error), emptying `jobs`. A
/// caller that gave up waiting is skipped: its write stands.
fn answer(jobs: &mut Vec<Job>, written: StoreResult<Vec<Outcome>>) {
    match written {
        Ok(outcomes) => {
            for (job, outcome) in jobs.drain(..).zip(outcomes) {
                match (job, outcome) {
                    (Job::Message { reply, .. }, Outcome::Message(r)) => {
                        let _ = reply.send(r);
                    }
                    (Job::Ticket { reply, .. }, Outcome::Ticket(r)) => {
                        let _ = reply.send(r);
                    }
                    // `plan` and `one_at_a_time` answer each job in its own kind.
                    (job, _) => fail(job, StoreError::backend(WriterStopped)),
                }
            }
        }
        // One call alone gets its error as it is.
        Err(e) if jobs.len() == 1 => {
            if let Some(job) = jobs.pop() {
                fail(job, e);
            }
        }
        Err(e) => {
            let calls = jobs.len();
            let source = Arc::new(e);
            for job in jobs.drain(..) {
                let e = BatchFailed {
                    calls,
                    source: source.clone(),
                };
                fail(job, StoreError::backend(e));
            }
        }
    }
}

fn fail(job: Job, e: StoreError) {
    match job {
        Job::Message { reply, .. } => {
            let _ = reply.send(Err(e));
        }
        Job::Ticket { reply, .. } => {
            let _ = reply.send(Err(e));
        }
    }
}
