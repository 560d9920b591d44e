//! Group commit: every `insert_message` and `insert_ticket_with_first_message`
//! of a store goes to one writer task, which writes whatever is queued (up
//! to [`MAX_BATCH`] calls) in one `BEGIN IMMEDIATE` transaction and answers
//! each caller after the commit.
//!
//! # A batch
//!
//! The writer takes what is queued right now — a lone call is written at
//! once, never held back to wait for company — and then its turn on the
//! store's write mutex (so it never meets the other write paths inside
//! SQLite's lock), tops the batch up with what arrived meanwhile. A batch of
//! one call runs that call's own statements ([`insert_message_on`],
//! [`insert_ticket_on`]), as many as the plan below would need or fewer.
//! A bigger batch:
//!
//! 1. reads, in a few set-based statements (the batch's ids as one JSON
//!    parameter), what the calls depend on: their tickets, the messages a
//!    `client_msg_id` may repeat, the first messages a ticket may repeat, the
//!    ticket counter, and — when tickets are opened — which users,
//!    categories and message ids exist;
//! 2. plans every call in order (tickets opened first, then messages, each
//!    kind in queue order; every call of a batch is pending at once, so any
//!    order is one they could have run in): each call gets its own outcome
//!    exactly as one call alone would — `Inserted`, `Duplicate` of a stored
//!    message or of one earlier in the batch, `NotFound`, `Conflict` on a
//!    closed ticket, a unique or foreign-key violation — from the same rules
//!    (the ticket effects are [`apply_effects`], the Rust twin of the SQL the
//!    one-at-a-time path runs);
//! 3. writes the planned rows in five statements at most: the ticket
//!    counter, the new tickets, all messages, all search rows, and the
//!    final state of every ticket a message touched;
//! 4. commits, then answers every caller.
//!
//! A call that fails never fails the others: planned failures write nothing.
//! What the plan does not foresee — a foreign key or message id it did not
//! check (message-only batches leave those to SQLite), anything else a
//! statement refuses — rolls the whole attempt back, and the batch is written
//! again one call at a time, each in its own savepoint, with the statements
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
//! queued and ends, and with it the checkpoint task (`checkpoint.rs`). A call
//! that finds no writer (its runtime has shut down) writes alone, in a
//! transaction of its own.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use neurochat_core::domain::{
    CategoryId, InsertMessage, Message, MessageId, NewMessage, Ticket, TicketId, TicketStatus,
    UserId,
};
use neurochat_core::ports::{StoreError, StoreResult};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::checkpoint;
use super::json::JsonRows;
use super::messages::{insert_message_on, message_from_row};
use super::search::{SUBJECT_KIND, search_rowid};
use super::tickets::{apply_effects, insert_ticket_on, ticket_cols, ticket_from_row};
use super::{StoreTasks, db_err};
use crate::common::{from_ms, from_ms_opt, parse_id, parse_id_opt, ts, ts_opt};

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
            runtime.spawn(checkpoint::run(
                pool.clone(),
                turn.clone(),
                wal.clone(),
                shared.clone(),
                nudges,
                tasks.clone(),
                tasks.start(),
            ));
            WalWatch { wal, shared, nudge }
        });
        runtime.spawn(run(
            pool.clone(),
            turn.clone(),
            jobs,
            watch,
            tasks.clone(),
            tasks.start(),
        ));
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
    /// The WAL file.
    wal: PathBuf,
    shared: Arc<checkpoint::Checkpoints>,
    /// Wakes the checkpoint task after a commit; dropped when the writer ends.
    nudge: mpsc::Sender<()>,
}

/// The writer task: one batch after another until the queue is closed and
/// empty.
///
/// On a database file the writer keeps a connection of its own (taken from
/// the pool and detached, so the pool opens another one for the readers):
/// SQLite drops a connection's whole page cache whenever another connection
/// has written since its last transaction, so a pooled connection would
/// start most batches cold. An in-memory database has only its one pooled
/// connection, taken per batch.
async fn run(
    pool: SqlitePool,
    turn: Arc<Mutex<()>>,
    mut queue: mpsc::UnboundedReceiver<Job>,
    watch: Option<WalWatch>,
    tasks: StoreTasks,
    _running: super::TaskGuard,
) {
    let mut own: Option<SqliteConnection> = None;
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    // Takes what is queued now (waiting only while nothing is).
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
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
        if pool.is_closed() {
            // Closing the pool closes the writer's connection too: calls
            // then fail as every other store method does.
            own = None;
        } else if watch.is_some() && own.is_none() {
            own = writer_connection(&pool).await;
        }
        let written = match own.as_mut() {
            Some(conn) => write_batch(conn, &jobs, &tasks).await,
            None => match pool.acquire().await {
                Ok(mut conn) => write_batch(&mut conn, &jobs, &tasks).await,
                Err(e) => Err(db_err(e)),
            },
        };
        // `Err`: the transaction failed as a whole.
        let failed = written.is_err();
        answer(&mut jobs, written);
        if failed {
            // Start over on a fresh connection, in case this one is broken.
            own = None;
        } else if let Some(watch) = &watch {
            // Full: a nudge is already pending.
            let _ = watch.nudge.try_send(());
            // The checkpoint task fell behind (the disk is slower than the
            // writes, or readers kept old snapshots): empty the WAL now,
            // before the next batch, so it cannot grow without bound.
            if let Some(conn) = own.as_mut()
                && checkpoint::wal_size(&watch.wal) > checkpoint::TRUNCATE_WAL_BYTES
            {
                checkpoint::truncate(conn, &watch.shared).await;
            }
        }
        drop(my_turn);
    }
}

/// The writer's own connection: a pooled one, detached, with a bigger page
/// cache and statement journals in memory. `None` if the pool cannot give
/// one (the batch then tries a pooled connection, the next one tries again).
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

/// Writes one batch: planned and set-based, or — if that fails — one call
/// at a time. A batch of one call runs that call's own statements (the plan
/// would only add statements). `Err` only when the transaction failed as a
/// whole (nothing of the batch is stored).
async fn write_batch(
    conn: &mut SqliteConnection,
    jobs: &[Job],
    tasks: &StoreTasks,
) -> StoreResult<Vec<Outcome>> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    if let [job] = jobs
        && !tasks.plans_single_calls()
    {
        let outcome = write_one(&mut tx, job).await;
        if outcome.is_ok() {
            tx.commit().await.map_err(db_err)?;
            tasks.committed(1);
        } else {
            tx.rollback().await.map_err(db_err)?;
        }
        return Ok(vec![outcome]);
    }
    match plan(&mut tx, jobs).await {
        Ok(outcomes) => {
            tx.commit().await.map_err(db_err)?;
            tasks.committed(jobs.len());
            return Ok(outcomes);
        }
        Err(e) => {
            tracing::debug!(error = %e, calls = jobs.len(), "batch not plannable, writing it call by call");
            tx.rollback().await.map_err(db_err)?;
            tasks.replayed();
        }
    }
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    let outcomes = one_at_a_time(&mut tx, jobs).await?;
    tx.commit().await.map_err(db_err)?;
    tasks.committed(jobs.len());
    Ok(outcomes)
}

/// One call with the single-call statements, inside the caller's
/// transaction or savepoint (rolled back by the caller if it fails).
async fn write_one(conn: &mut SqliteConnection, job: &Job) -> Outcome {
    match job {
        Job::Message { message, .. } => Outcome::Message(insert_message_on(conn, message).await),
        Job::Ticket { ticket, first, .. } => {
            Outcome::Ticket(insert_ticket_on(conn, ticket, first).await)
        }
    }
}

/// The fallback: every job in its own savepoint, with the single-call
/// statements, in the order `plan` uses (tickets, then messages).
async fn one_at_a_time(conn: &mut SqliteConnection, jobs: &[Job]) -> StoreResult<Vec<Outcome>> {
    let mut outcomes: Vec<Option<Outcome>> = jobs.iter().map(|_| None).collect();
    for i in tickets_then_messages(jobs) {
        let mut savepoint = conn.begin().await.map_err(db_err)?;
        let outcome = write_one(&mut savepoint, &jobs[i]).await;
        if outcome.is_ok() {
            savepoint.commit().await.map_err(db_err)?;
        } else {
            savepoint.rollback().await.map_err(db_err)?;
        }
        outcomes[i] = Some(outcome);
    }
    Ok(outcomes.into_iter().flatten().collect())
}

/// Job indexes: ticket jobs in queue order, then message jobs in queue order.
fn tickets_then_messages(jobs: &[Job]) -> impl Iterator<Item = usize> + '_ {
    let tickets = (0..jobs.len()).filter(|&i| matches!(jobs[i], Job::Ticket { .. }));
    let messages = (0..jobs.len()).filter(|&i| matches!(jobs[i], Job::Message { .. }));
    tickets.chain(messages)
}

// ---------------------------------------------------------------- the planned batch

/// The batch's tickets (by id, the comparison of `tickets.id`).
pub(super) const TICKETS_SQL: &str = concat!(
    "SELECT ",
    ticket_cols!(),
    " FROM tickets WHERE id IN (SELECT value FROM jsonb_each(?))"
);

/// Stored messages a keyed message repeats: rows `[ticket_id, author_id or
/// null, client_msg_id]`; `IS` matches a NULL author too (system messages).
/// Reads messages_client_msg_key once per row.
pub(super) const DUPLICATES_SQL: &str = "SELECT m.id, m.ticket_id, m.seq, m.author_id, m.kind, \
     m.body, m.client_msg_id, m.created_at \
     FROM jsonb_each(?) AS j CROSS JOIN messages AS m \
     WHERE m.ticket_id = j.value ->> 0 AND m.author_id IS j.value ->> 1 \
     AND m.client_msg_id = j.value ->> 2";

/// Stored first messages a new ticket's first message repeats: rows
/// `[author_id or null, client_msg_id]` (see `FIRST_MESSAGE_SQL`). Reads
/// messages_first_message_idx once per row.
pub(super) const FIRST_MESSAGES_SQL: &str = "SELECT m.author_id, m.client_msg_id \
     FROM jsonb_each(?) AS j CROSS JOIN messages AS m \
     WHERE m.author_id IS j.value ->> 0 AND m.client_msg_id = j.value ->> 1 AND m.seq = 1";

/// The ticket counter, and the highest number in use (a number the counter
/// would hand out again is left to the one-at-a-time path).
const NUMBERS_SQL: &str = "SELECT (SELECT value FROM counters WHERE name = 'ticket_number'), \
     (SELECT MAX(number) FROM tickets)";

/// Which of the given users (?1), categories (?2) and message ids (?3) exist:
/// rows `(kind, id)`, kind `u`, `c` or `m`. Primary-key lookups only.
pub(super) const KNOWN_SQL: &str = "SELECT 'u', id FROM users WHERE id IN (SELECT value FROM jsonb_each(?1)) \
     UNION ALL SELECT 'c', id FROM categories WHERE id IN (SELECT value FROM jsonb_each(?2)) \
     UNION ALL SELECT 'm', id FROM messages WHERE id IN (SELECT value FROM jsonb_each(?3))";

const COUNTER_SQL: &str = "UPDATE counters SET value = ? WHERE name = 'ticket_number'";

const INSERT_TICKETS_SQL: &str = concat!(
    "INSERT INTO tickets (",
    ticket_cols!(),
    ") SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
     value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, \
     value ->> 12, value ->> 13, value ->> 14, value ->> 15, value ->> 16, value ->> 17, \
     value ->> 18, value ->> 19, value ->> 20 FROM jsonb_each(?)"
);

const INSERT_MESSAGES_SQL: &str = "INSERT INTO messages \
     (id, ticket_id, seq, author_id, kind, body, client_msg_id, created_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
     value ->> 6, value ->> 7 FROM jsonb_each(?)";

const INSERT_SEARCH_SQL: &str = "INSERT INTO ticket_search (rowid, ticket_id, kind, body) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM jsonb_each(?)";

/// The final state of the message fields (and the reopening a customer
/// message causes) of every ticket the batch's messages touched, one row per
/// ticket. Reads each ticket by primary key.
pub(super) const UPDATE_TICKETS_SQL: &str = "UPDATE tickets SET last_seq = j.value ->> 1, \
     updated_at = j.value ->> 2, status = j.value ->> 3, version = j.value ->> 4, \
     awaiting_since = j.value ->> 5, first_response_at = j.value ->> 6, \
     last_agent_seq = j.value ->> 7, last_agent_message_at = j.value ->> 8 \
     FROM jsonb_each(?) AS j WHERE tickets.id = j.value ->> 0";

/// A ticket as the batch sees it.
struct TicketState {
    ticket: Ticket,
    /// Opened by this batch (inserted with its final state).
    new: bool,
    /// Changed by one of the batch's messages (stored ones get an update).
    touched: bool,
}

/// The message a `client_msg_id` repeats.
enum Original<'a> {
    Stored(&'a Message),
    /// Inserted by job `i` of this batch.
    Batch(usize),
}

/// Which of the batch's references exist (read only when it opens tickets).
struct Known {
    users: HashSet<UserId>,
    categories: HashSet<CategoryId>,
    message_ids: HashSet<MessageId>,
}

/// Plans and writes the batch; `Err` if a statement failed (the caller rolls
/// back and writes the batch one call at a time).
async fn plan(conn: &mut SqliteConnection, jobs: &[Job]) -> StoreResult<Vec<Outcome>> {
    // ------------------------------------------------------------ what to read
    let mut ticket_ids = JsonRows::new();
    let mut keyed = JsonRows::new();
    let mut first_keyed = JsonRows::new();
    let mut users = JsonRows::new();
    let mut categories = JsonRows::new();
    let mut message_ids = JsonRows::new();
    let opens_tickets = jobs.iter().any(|j| matches!(j, Job::Ticket { .. }));
    for job in jobs {
        match job {
            Job::Message { message: m, .. } => {
                ticket_ids.push_id(m.ticket_id);
                if let Some(key) = m.client_msg_id.as_deref() {
                    keyed.row().id(m.ticket_id).opt_id(m.author_id).str(key);
                }
                if opens_tickets {
                    message_ids.push_id(m.id);
                    if let Some(author) = m.author_id {
                        users.push_id(author);
                    }
                }
            }
            Job::Ticket { ticket, first, .. } => {
                ticket_ids.push_id(ticket.id);
                if let Some(key) = first.client_msg_id.as_deref() {
                    first_keyed.row().opt_id(first.author_id).str(key);
                }
                users.push_id(ticket.customer_id);
                if let Some(assignee) = ticket.assignee_id {
                    users.push_id(assignee);
                }
                if let Some(author) = first.author_id {
                    users.push_id(author);
                }
                if let Some(category) = ticket.category_id {
                    categories.push_id(category);
                }
                message_ids.push_id(first.id);
            }
        }
    }

    // ------------------------------------------------------------ reads
    let mut tickets: HashMap<TicketId, TicketState> = HashMap::new();
    for row in sqlx::query(TICKETS_SQL)
        .bind(ticket_ids.finish())
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?
    {
        let ticket = ticket_from_row(&row)?;
        let state = TicketState {
            ticket,
            new: false,
            touched: false,
        };
        tickets.insert(state.ticket.id, state);
    }
    let stored_originals: Vec<Message> = if keyed.len() > 0 {
        sqlx::query(DUPLICATES_SQL)
            .bind(keyed.finish())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?
            .iter()
            .map(message_from_row)
            .collect::<StoreResult<_>>()?
    } else {
        Vec::new()
    };
    let mut originals: HashMap<(TicketId, Option<UserId>, &str), Original<'_>> = HashMap::new();
    for m in &stored_originals {
        if let Some(key) = m.client_msg_id.as_deref() {
            originals
                .entry((m.ticket_id, m.author_id, key))
                .or_insert(Original::Stored(m));
        }
    }
    let mut first_keys: HashSet<(Option<UserId>, Cow<'_, str>)> = HashSet::new();
    let mut next_number = 0;
    let mut known = None;
    if opens_tickets {
        if first_keyed.len() > 0 {
            for row in sqlx::query(FIRST_MESSAGES_SQL)
                .bind(first_keyed.finish())
                .fetch_all(&mut *conn)
                .await
                .map_err(db_err)?
            {
                let author = parse_id_opt("messages.author_id", row.try_get(0).map_err(db_err)?)?;
                let key: String = row.try_get(1).map_err(db_err)?;
                first_keys.insert((author, Cow::Owned(key)));
            }
        }
        let row = sqlx::query(NUMBERS_SQL)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        let counter: i64 = row.try_get(0).map_err(db_err)?;
        let highest: Option<i64> = row.try_get(1).map_err(db_err)?;
        if highest.is_some_and(|n| n > counter) {
            return Err(StoreError::UniqueViolation {
                constraint: "tickets.number",
            });
        }
        next_number = counter + 1;
        let mut k = Known {
            users: HashSet::new(),
            categories: HashSet::new(),
            message_ids: HashSet::new(),
        };
        for row in sqlx::query(KNOWN_SQL)
            .bind(users.finish())
            .bind(categories.finish())
            .bind(message_ids.finish())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?
        {
            let kind: &str = row.try_get(0).map_err(db_err)?;
            let id: &str = row.try_get(1).map_err(db_err)?;
            match kind {
                "u" => k.users.insert(parse_id("users.id", id)?),
                "c" => k.categories.insert(parse_id("categories.id", id)?),
                _ => k.message_ids.insert(parse_id("messages.id", id)?),
            };
        }
        known = Some(k);
    }

    // ------------------------------------------------------------ the plan
    let mut outcomes: Vec<Option<Outcome>> = jobs.iter().map(|_| None).collect();
    let mut message_rows = JsonRows::with_capacity(jobs.len() * 320);
    let mut search_rows = JsonRows::with_capacity(jobs.len() * 200);
    let mut opened: Vec<TicketId> = Vec::new();
    let mut touched: Vec<TicketId> = Vec::new();
    // Message ids this batch inserts.
    let mut inserted: HashSet<MessageId> = HashSet::new();

    for i in tickets_then_messages(jobs) {
        match &jobs[i] {
            Job::Ticket { ticket, first, .. } => {
                let refused = if tickets.contains_key(&ticket.id) {
                    Some(StoreError::UniqueViolation {
                        constraint: "tickets.id",
                    })
                } else {
                    refuse_ticket(ticket, first, known.as_ref(), &inserted, &first_keys)
                };
                if let Some(e) = refused {
                    outcomes[i] = Some(Outcome::Ticket(Err(e)));
                    continue;
                }
                let number = next_number;
                next_number += 1;
                let message = Message {
                    ticket_id: ticket.id,
                    ..first.with_seq(1)
                };
                // As `insert_ticket_on` builds it.
                let mut stored = Ticket {
                    number,
                    last_seq: 0,
                    awaiting_since: None,
                    last_agent_seq: 0,
                    last_agent_message_at: None,
                    ..ticket.clone()
                };
                apply_effects(&mut stored, message.kind, message.seq, message.created_at);
                push_message(&mut message_rows, &message);
                search_rows
                    .row()
                    .int(search_rowid(number, 0))
                    .id(stored.id)
                    .str(SUBJECT_KIND)
                    .str(&stored.subject);
                push_search(&mut search_rows, number, &message);
                inserted.insert(message.id);
                if let Some(key) = first.client_msg_id.as_deref() {
                    first_keys.insert((first.author_id, Cow::Borrowed(key)));
                    originals
                        .entry((ticket.id, first.author_id, key))
                        .or_insert(Original::Batch(i));
                }
                tickets.insert(
                    ticket.id,
                    TicketState {
                        ticket: read_back_ticket(&stored)?,
                        new: true,
                        touched: false,
                    },
                );
                opened.push(ticket.id);
                outcomes[i] = Some(Outcome::Ticket(Ok((stored, message))));
            }
            Job::Message { message: m, .. } => {
                // 1. Idempotency first: a repeat changes nothing, whatever the ticket.
                let original = m
                    .client_msg_id
                    .as_deref()
                    .and_then(|key| originals.get(&(m.ticket_id, m.author_id, key)));
                if let Some(original) = original {
                    let repeated = match original {
                        Original::Stored(m) => Ok((*m).clone()),
                        Original::Batch(j) => batch_message(&outcomes, *j),
                    };
                    outcomes[i] = Some(Outcome::Message(repeated.map(InsertMessage::Duplicate)));
                    continue;
                }
                // 2. The ticket: missing, or closed (nothing stored).
                let Some(state) = tickets.get_mut(&m.ticket_id) else {
                    outcomes[i] = Some(Outcome::Message(Err(StoreError::NotFound)));
                    continue;
                };
                if state.ticket.status == TicketStatus::Closed {
                    outcomes[i] = Some(Outcome::Message(Err(StoreError::Conflict)));
                    continue;
                }
                // 3. The message row: its id, then its author (SQLite's order).
                if let Some(e) = refuse_message(m, known.as_ref(), &inserted) {
                    outcomes[i] = Some(Outcome::Message(Err(e)));
                    continue;
                }
                let stored = m.with_seq(state.ticket.last_seq + 1);
                // The ticket as `RETURNING` would read it back: stored precision.
                let at = read_back_ts("messages.created_at", m.created_at)?;
                apply_effects(&mut state.ticket, m.kind, stored.seq, at);
                if !state.new && !state.touched {
                    touched.push(m.ticket_id);
                }
                state.touched = true;
                push_message(&mut message_rows, &stored);
                push_search(&mut search_rows, state.ticket.number, &stored);
                inserted.insert(stored.id);
                if let Some(key) = m.client_msg_id.as_deref() {
                    originals
                        .entry((m.ticket_id, m.author_id, key))
                        .or_insert(Original::Batch(i));
                }
                outcomes[i] = Some(Outcome::Message(Ok(InsertMessage::Inserted {
                    message: stored,
                    ticket: state.ticket.clone(),
                })));
            }
        }
    }

    // ------------------------------------------------------------ writes
    if !opened.is_empty() {
        sqlx::query(COUNTER_SQL)
            .bind(next_number - 1)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        let mut rows = JsonRows::with_capacity(opened.len() * 400);
        for id in &opened {
            if let Some(state) = tickets.get(id) {
                push_ticket(&mut rows, &state.ticket);
            }
        }
        let expected = rows.len();
        let done = sqlx::query(INSERT_TICKETS_SQL)
            .bind(rows.finish())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        expect_rows("tickets inserted", done.rows_affected(), expected)?;
    }
    if message_rows.len() > 0 {
        let expected = message_rows.len();
        let done = sqlx::query(INSERT_MESSAGES_SQL)
            .bind(message_rows.finish())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        expect_rows("messages inserted", done.rows_affected(), expected)?;
        sqlx::query(INSERT_SEARCH_SQL)
            .bind(search_rows.finish())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    if !touched.is_empty() {
        let mut rows = JsonRows::with_capacity(touched.len() * 200);
        for id in &touched {
            if let Some(state) = tickets.get(id) {
                let t = &state.ticket;
                rows.row()
                    .id(t.id)
                    .int(t.last_seq)
                    .int(ts(t.updated_at))
                    .str(t.status.as_str())
                    .int(t.version)
                    .opt_int(ts_opt(t.awaiting_since))
                    .opt_int(ts_opt(t.first_response_at))
                    .int(t.last_agent_seq)
                    .opt_int(ts_opt(t.last_agent_message_at));
            }
        }
        let expected = rows.len();
        let done = sqlx::query(UPDATE_TICKETS_SQL)
            .bind(rows.finish())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        expect_rows("tickets updated", done.rows_affected(), expected)?;
    }
    Ok(outcomes.into_iter().flatten().collect())
}

/// Why a new ticket cannot be stored, in the order the single-call path
/// meets it (`tickets.id` is checked by the caller): the ticket's foreign
/// keys, its first message's id and author, then the idempotency key.
fn refuse_ticket(
    ticket: &Ticket,
    first: &NewMessage,
    known: Option<&Known>,
    inserted: &HashSet<MessageId>,
    first_keys: &HashSet<(Option<UserId>, Cow<'_, str>)>,
) -> Option<StoreError> {
    if let Some(k) = known {
        let user = |u: UserId| k.users.contains(&u);
        if !user(ticket.customer_id)
            || ticket.assignee_id.is_some_and(|u| !user(u))
            || ticket
                .category_id
                .is_some_and(|c| !k.categories.contains(&c))
        {
            return Some(StoreError::ForeignKey);
        }
    }
    let first_refused = refuse_message(first, known, inserted);
    if first_refused.is_some() {
        return first_refused;
    }
    let key = first.client_msg_id.as_deref()?;
    first_keys
        .contains(&(first.author_id, Cow::Borrowed(key)))
        .then_some(StoreError::UniqueViolation {
            constraint: "tickets.first_message",
        })
}

/// Why a message row cannot be inserted: a taken id (SQLite checks unique
/// keys before foreign keys), then an unknown author. Without `known` (a
/// message-only batch) only the batch's own ids are checked; SQLite finds
/// the rest, and the batch is then written one call at a time.
fn refuse_message(
    m: &NewMessage,
    known: Option<&Known>,
    inserted: &HashSet<MessageId>,
) -> Option<StoreError> {
    if inserted.contains(&m.id) || known.is_some_and(|k| k.message_ids.contains(&m.id)) {
        return Some(StoreError::UniqueViolation {
            constraint: "messages.id",
        });
    }
    match (known, m.author_id) {
        (Some(k), Some(author)) if !k.users.contains(&author) => Some(StoreError::ForeignKey),
        _ => None,
    }
}

/// The message job or ticket job `j` of this batch inserted, as a read of
/// the stored row would return it.
fn batch_message(outcomes: &[Option<Outcome>], j: usize) -> StoreResult<Message> {
    let m = match outcomes.get(j) {
        Some(Some(Outcome::Message(Ok(InsertMessage::Inserted { message, .. })))) => message,
        Some(Some(Outcome::Ticket(Ok((_, message))))) => message,
        _ => return Err(StoreError::backend(WriterStopped)),
    };
    Ok(Message {
        created_at: read_back_ts("messages.created_at", m.created_at)?,
        ..m.clone()
    })
}

/// `t` at the stored precision (milliseconds), as a read returns it.
fn read_back_ts(
    column: &'static str,
    t: time::OffsetDateTime,
) -> StoreResult<time::OffsetDateTime> {
    from_ms(column, ts(t))
}

/// A ticket as a read of its stored row returns it.
fn read_back_ticket(t: &Ticket) -> StoreResult<Ticket> {
    let opt = |column, t: Option<time::OffsetDateTime>| from_ms_opt(column, ts_opt(t));
    Ok(Ticket {
        created_at: read_back_ts("tickets.created_at", t.created_at)?,
        updated_at: read_back_ts("tickets.updated_at", t.updated_at)?,
        first_response_at: opt("tickets.first_response_at", t.first_response_at)?,
        resolved_at: opt("tickets.resolved_at", t.resolved_at)?,
        closed_at: opt("tickets.closed_at", t.closed_at)?,
        awaiting_since: opt("tickets.awaiting_since", t.awaiting_since)?,
        last_agent_message_at: opt("tickets.last_agent_message_at", t.last_agent_message_at)?,
        escalated_new_at: opt("tickets.escalated_new_at", t.escalated_new_at)?,
        escalated_awaiting_since: opt(
            "tickets.escalated_awaiting_since",
            t.escalated_awaiting_since,
        )?,
        ..t.clone()
    })
}

/// A row of `INSERT_MESSAGES_SQL`.
fn push_message(rows: &mut JsonRows, m: &Message) {
    rows.row()
        .id(m.id)
        .id(m.ticket_id)
        .int(m.seq)
        .opt_id(m.author_id)
        .str(m.kind.as_str())
        .str(&m.body)
        .opt_str(m.client_msg_id.as_deref())
        .int(ts(m.created_at));
}

/// A row of `INSERT_SEARCH_SQL` for a message of ticket `number`.
fn push_search(rows: &mut JsonRows, number: i64, m: &Message) {
    rows.row()
        .int(search_rowid(number, m.seq))
        .id(m.ticket_id)
        .str(m.kind.as_str())
        .str(&m.body);
}

/// A row of `INSERT_TICKETS_SQL`, in `ticket_cols!` order.
fn push_ticket(rows: &mut JsonRows, t: &Ticket) {
    rows.row()
        .id(t.id)
        .int(t.number)
        .str(&t.subject)
        .id(t.customer_id)
        .opt_id(t.category_id)
        .str(t.priority.as_str())
        .str(t.status.as_str())
        .opt_id(t.assignee_id)
        .int(ts(t.created_at))
        .int(ts(t.updated_at))
        .opt_int(ts_opt(t.first_response_at))
        .opt_int(ts_opt(t.resolved_at))
        .opt_int(ts_opt(t.closed_at))
        .int(t.last_seq)
        .opt_int(ts_opt(t.awaiting_since))
        .int(t.last_agent_seq)
        .opt_int(ts_opt(t.last_agent_message_at))
        .int(t.customer_notified_seq)
        .opt_int(ts_opt(t.escalated_new_at))
        .opt_int(ts_opt(t.escalated_awaiting_since))
        .int(t.version);
}

/// A set-based write that changed another number of rows than planned is
/// not trusted: the batch is written again one call at a time.
fn expect_rows(what: &'static str, done: u64, planned: usize) -> StoreResult<()> {
    if usize::try_from(done).ok() == Some(planned) {
        return Ok(());
    }
    Err(StoreError::backend(Unplanned {
        what,
        done,
        planned,
    }))
}

#[derive(Debug, thiserror::Error)]
#[error("{what}: {done} rows, {planned} planned")]
struct Unplanned {
    what: &'static str,
    done: u64,
    planned: usize,
}
