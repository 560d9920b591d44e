//! The statements of a batch: the transaction around it, the single-call
//! fallback (each call in its own savepoint), and the set-based reads and
//! writes the plan (`plan.rs`) runs, with their JSON rows.

use neurochat_core::domain::{Message, Ticket};
use neurochat_core::ports::{StoreError, StoreResult};
use rusqlite::Connection;
use sqlx::{Connection as _, SqliteConnection};

use crate::common::{ts, ts_opt};
use crate::sqlite::json::JsonRows;
use crate::sqlite::messages::insert_message_on;
use crate::sqlite::tickets::{insert_ticket_on, ticket_cols};
use crate::sqlite::{StoreTasks, db_err};

use super::plan::plan;
use super::{Job, Outcome};

/// What became of a batch on the writer's raw connection.
pub(super) enum Planned {
    /// Planned, written and committed.
    Written(Vec<Outcome>),
    /// To be written through sqlx ([`write_unplanned`]): `replay` after the
    /// plan failed (rolled back), else a batch of one call with that call's
    /// own statements.
    Unplanned { replay: bool },
}

/// Writes one batch planned and set-based, unless it is one call the store
/// writes with its own statements ([`SqliteStore::plan_single_calls`]: the
/// plan runs about five statements, a call's own about six, and both now
/// run on the writer's thread) or the plan fails.
///
/// [`SqliteStore::plan_single_calls`]: crate::sqlite::SqliteStore::plan_single_calls
pub(super) fn write_planned(db: &Connection, jobs: &[Job], tasks: &StoreTasks) -> Planned {
    if let [_] = jobs
        && !tasks.plans_single_calls()
    {
        return Planned::Unplanned { replay: false };
    }
    match plan(db, jobs) {
        Ok(outcomes) => {
            tasks.committed(jobs.len());
            Planned::Written(outcomes)
        }
        Err(e) => {
            tracing::debug!(error = %e, calls = jobs.len(), "batch not plannable, writing it call by call");
            // Not in a transaction when `BEGIN` or `COMMIT` itself failed.
            if !db.is_autocommit()
                && let Err(e) = db.execute_batch("ROLLBACK")
            {
                tracing::debug!(error = %e, "planned batch not rolled back");
            }
            tasks.replayed();
            Planned::Unplanned { replay: true }
        }
    }
}

/// Writes a batch through sqlx: one call with its own statements, or (a
/// `replay`) every call in its own savepoint. `Err` only when the
/// transaction failed as a whole (nothing of the batch is stored).
pub(super) async fn write_unplanned(
    conn: &mut SqliteConnection,
    jobs: &[Job],
    tasks: &StoreTasks,
    replay: bool,
) -> StoreResult<Vec<Outcome>> {
    if let [job] = jobs
        && !replay
    {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
        let outcome = write_one(&mut tx, job).await;
        if outcome.is_ok() {
            tx.commit().await.map_err(db_err)?;
            tasks.committed(1);
        } else {
            tx.rollback().await.map_err(db_err)?;
        }
        return Ok(vec![outcome]);
    }
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    let outcomes = one_at_a_time(&mut tx, jobs).await?;
    tx.commit().await.map_err(db_err)?;
    tasks.committed(jobs.len());
    Ok(outcomes)
}

/// One call with the single-call statements, inside the caller's
/// transaction or savepoint (rolled back by the caller if it fails).
pub(super) async fn write_one(conn: &mut SqliteConnection, job: &Job) -> Outcome {
    match job {
        Job::Message { message, .. } => Outcome::Message(insert_message_on(conn, message).await),
        Job::Ticket { ticket, first, .. } => {
            Outcome::Ticket(insert_ticket_on(conn, ticket, first).await)
        }
    }
}

/// The fallback: every job in its own savepoint, with the single-call
/// statements, in the order `plan` uses (tickets, then messages).
pub(super) async fn one_at_a_time(
    conn: &mut SqliteConnection,
    jobs: &[Job],
) -> StoreResult<Vec<Outcome>> {
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
pub(super) fn tickets_then_messages(jobs: &[Job]) -> impl Iterator<Item = usize> + '_ {
    let tickets = (0..jobs.len()).filter(|&i| matches!(jobs[i], Job::Ticket { .. }));
    let messages = (0..jobs.len()).filter(|&i| matches!(jobs[i], Job::Message { .. }));
    tickets.chain(messages)
}

// ---------------------------------------------------------------- the planned batch's statements

/// The batch's tickets (by id, the comparison of `tickets.id`).
pub(in crate::sqlite) const TICKETS_SQL: &str = concat!(
    "SELECT ",
    ticket_cols!(),
    " FROM tickets WHERE id IN (SELECT value FROM jsonb_each(?))"
);

/// Stored messages a keyed message repeats: rows `[ticket_id, author_id or
/// null, client_msg_id]`; `IS` matches a NULL author too (system messages).
/// Reads messages_client_msg_key once per row.
pub(in crate::sqlite) const DUPLICATES_SQL: &str = "SELECT m.id, m.ticket_id, m.seq, m.author_id, m.kind, \
     m.body, m.client_msg_id, m.created_at \
     FROM jsonb_each(?) AS j CROSS JOIN messages AS m \
     WHERE m.ticket_id = j.value ->> 0 AND m.author_id IS j.value ->> 1 \
     AND m.client_msg_id = j.value ->> 2";

/// Stored first messages a new ticket's first message repeats: rows
/// `[author_id or null, client_msg_id]` (see `FIRST_MESSAGE_SQL`). Reads
/// messages_first_message_idx once per row.
pub(in crate::sqlite) const FIRST_MESSAGES_SQL: &str = "SELECT m.author_id, m.client_msg_id \
     FROM jsonb_each(?) AS j CROSS JOIN messages AS m \
     WHERE m.author_id IS j.value ->> 0 AND m.client_msg_id = j.value ->> 1 AND m.seq = 1";

/// The ticket counter, and the highest number in use (a number the counter
/// would hand out again is left to the one-at-a-time path).
pub(super) const NUMBERS_SQL: &str = "SELECT (SELECT value FROM counters WHERE name = 'ticket_number'), \
     (SELECT MAX(number) FROM tickets)";

/// Which of the given users, categories and message ids (three parameters,
/// in that order) exist: rows `(kind, id)`, kind `u`, `c` or `m`.
/// Primary-key lookups only.
pub(in crate::sqlite) const KNOWN_SQL: &str = "SELECT 'u', id FROM users WHERE id IN (SELECT value FROM jsonb_each(?)) \
     UNION ALL SELECT 'c', id FROM categories WHERE id IN (SELECT value FROM jsonb_each(?)) \
     UNION ALL SELECT 'm', id FROM messages WHERE id IN (SELECT value FROM jsonb_each(?))";

pub(super) const COUNTER_SQL: &str = "UPDATE counters SET value = ? WHERE name = 'ticket_number'";

pub(super) const INSERT_TICKETS_SQL: &str = concat!(
    "INSERT INTO tickets (",
    ticket_cols!(),
    ") SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
     value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, \
     value ->> 12, value ->> 13, value ->> 14, value ->> 15, value ->> 16, value ->> 17, \
     value ->> 18, value ->> 19, value ->> 20 FROM jsonb_each(?)"
);

pub(super) const INSERT_MESSAGES_SQL: &str = "INSERT INTO messages \
     (id, ticket_id, seq, author_id, kind, body, client_msg_id, created_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
     value ->> 6, value ->> 7 FROM jsonb_each(?)";

/// The final state of the message fields of every ticket the batch's
/// messages touched, one row per ticket: the columns no index holds. Reads
/// each ticket by primary key, as every `UPDATE_TICKET_*_SQL` does.
const UPDATE_TICKETS_SQL: &str = "UPDATE tickets SET last_seq = j.value ->> 1, \
     version = j.value ->> 2, first_response_at = j.value ->> 3 \
     FROM jsonb_each(?) AS j WHERE tickets.id = j.value ->> 0";

/// `updated_at` of the touched tickets it moved (three indexes hold it).
const UPDATE_TICKET_ACTIVITY_SQL: &str = "UPDATE tickets SET updated_at = j.value ->> 1 \
     FROM jsonb_each(?) AS j WHERE tickets.id = j.value ->> 0";

/// `status` of the tickets a customer message reopened (indexes and the
/// conditions of the partial ones hold it).
const UPDATE_TICKET_STATUS_SQL: &str = "UPDATE tickets SET status = j.value ->> 1 \
     FROM jsonb_each(?) AS j WHERE tickets.id = j.value ->> 0";

/// `awaiting_since` where it changed (`tickets_escalate_awaiting_idx`).
const UPDATE_TICKET_AWAITING_SQL: &str = "UPDATE tickets SET awaiting_since = j.value ->> 1 \
     FROM jsonb_each(?) AS j WHERE tickets.id = j.value ->> 0";

/// The last agent message's seq and time where an agent wrote
/// (`tickets_notify_idx`).
const UPDATE_TICKET_AGENT_SQL: &str = "UPDATE tickets SET last_agent_seq = j.value ->> 1, last_agent_message_at = j.value ->> 2 \
     FROM jsonb_each(?) AS j WHERE tickets.id = j.value ->> 0";

/// Every statement a batch's ticket updates may run (for their query plans).
pub(in crate::sqlite) const TICKET_UPDATE_STATEMENTS: [&str; 5] = [
    UPDATE_TICKETS_SQL,
    UPDATE_TICKET_ACTIVITY_SQL,
    UPDATE_TICKET_STATUS_SQL,
    UPDATE_TICKET_AWAITING_SQL,
    UPDATE_TICKET_AGENT_SQL,
];

/// The ticket updates of a batch, split by column group (see
/// [`TicketUpdates::push`]).
pub(super) struct TicketUpdates {
    all: JsonRows,
    activity: JsonRows,
    status: JsonRows,
    awaiting: JsonRows,
    agent: JsonRows,
}

impl TicketUpdates {
    pub(super) fn with_capacity(tickets: usize) -> TicketUpdates {
        TicketUpdates {
            all: JsonRows::with_capacity(tickets * 80),
            activity: JsonRows::with_capacity(tickets * 60),
            status: JsonRows::with_capacity(0),
            awaiting: JsonRows::with_capacity(0),
            agent: JsonRows::with_capacity(0),
        }
    }

    /// A touched ticket, as stored (`read`) and after the batch (`now`):
    /// the unindexed columns always, every indexed group only if it changed.
    pub(super) fn push(&mut self, read: &Ticket, now: &Ticket) {
        self.all
            .row()
            .id(now.id)
            .int(now.last_seq)
            .int(now.version)
            .opt_int(ts_opt(now.first_response_at));
        if now.updated_at != read.updated_at {
            self.activity.row().id(now.id).int(ts(now.updated_at));
        }
        if now.status != read.status {
            self.status.row().id(now.id).str(now.status.as_str());
        }
        if now.awaiting_since != read.awaiting_since {
            self.awaiting
                .row()
                .id(now.id)
                .opt_int(ts_opt(now.awaiting_since));
        }
        if (now.last_agent_seq, now.last_agent_message_at)
            != (read.last_agent_seq, read.last_agent_message_at)
        {
            self.agent
                .row()
                .id(now.id)
                .int(now.last_agent_seq)
                .opt_int(ts_opt(now.last_agent_message_at));
        }
    }

    /// The statements with rows, each with its rows (one per ticket).
    pub(super) fn statements(self) -> impl Iterator<Item = (&'static str, JsonRows)> {
        [
            (UPDATE_TICKETS_SQL, self.all),
            (UPDATE_TICKET_ACTIVITY_SQL, self.activity),
            (UPDATE_TICKET_STATUS_SQL, self.status),
            (UPDATE_TICKET_AWAITING_SQL, self.awaiting),
            (UPDATE_TICKET_AGENT_SQL, self.agent),
        ]
        .into_iter()
        .filter(|(_, rows)| rows.len() > 0)
    }
}

/// A row of `INSERT_MESSAGES_SQL`.
pub(super) fn push_message(rows: &mut JsonRows, m: &Message) {
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

/// A row of `INSERT_TICKETS_SQL`, in `ticket_cols!` order.
pub(super) fn push_ticket(rows: &mut JsonRows, t: &Ticket) {
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
pub(super) fn expect_rows(what: &'static str, done: u64, planned: usize) -> StoreResult<()> {
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
