//! The planned batch: what each call of a batch does, worked out in Rust
//! from a few set-based reads, and the rows written for it (see the module
//! documentation of `group_commit`).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use neurochat_core::domain::{
    CategoryId, InsertMessage, Message, MessageId, NewMessage, Ticket, TicketId, TicketStatus,
    UserId,
};
use neurochat_core::ports::{StoreError, StoreResult};
use rusqlite::Connection;

use crate::common::{from_ms, from_ms_opt, parse_id, parse_id_opt, ts, ts_opt};
use crate::sqlite::cols::{Cols as _, raw_err};
use crate::sqlite::json::JsonRows;
use crate::sqlite::messages::message_from_row;
use crate::sqlite::tickets::{apply_effects, ticket_from_row};

use super::write::{
    COUNTER_SQL, DUPLICATES_SQL, FIRST_MESSAGES_SQL, INSERT_MESSAGES_SQL, INSERT_TICKETS_SQL,
    KNOWN_SQL, NUMBERS_SQL, TICKETS_SQL, TicketUpdates, expect_rows, push_message, push_ticket,
    tickets_then_messages,
};
use super::{Job, Outcome, WriterStopped};

/// A ticket as the batch sees it.
struct TicketState {
    ticket: Ticket,
    /// As stored before the batch (`None`: opened by this batch).
    read: Option<Ticket>,
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

/// Plans and writes the batch in a transaction of its own, begun and
/// committed here, on the writer's raw connection (`raw.rs`: its thread
/// runs every statement itself, so each costs no thread switch); `Err` if a
/// statement failed (the caller rolls back and writes the batch one call at
/// a time).
pub(super) fn plan(db: &Connection, jobs: &[Job]) -> StoreResult<Vec<Outcome>> {
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
    let mut stored_originals: Vec<Message> = Vec::new();
    let mut first_keys: HashSet<(Option<UserId>, Cow<'_, str>)> = HashSet::new();
    let mut numbers = None;
    let mut k = Known {
        users: HashSet::new(),
        categories: HashSet::new(),
        message_ids: HashSet::new(),
    };
    run(db, "BEGIN IMMEDIATE", ())?;
    each_row(db, TICKETS_SQL, [ticket_ids.finish()], |row| {
        let ticket = ticket_from_row(row)?;
        let state = TicketState {
            read: Some(ticket.clone()),
            ticket,
            new: false,
            touched: false,
        };
        tickets.insert(state.ticket.id, state);
        Ok(())
    })?;
    if keyed.len() > 0 {
        each_row(db, DUPLICATES_SQL, [keyed.finish()], |row| {
            stored_originals.push(message_from_row(row)?);
            Ok(())
        })?;
    }
    if opens_tickets {
        if first_keyed.len() > 0 {
            each_row(db, FIRST_MESSAGES_SQL, [first_keyed.finish()], |row| {
                let author = parse_id_opt("messages.author_id", row.opt_text(0, "author_id")?)?;
                let key = row.text(1, "client_msg_id")?;
                first_keys.insert((author, Cow::Owned(key.to_owned())));
                Ok(())
            })?;
        }
        each_row(db, NUMBERS_SQL, (), |row| {
            numbers = Some((row.int(0, "counter")?, row.opt_int(1, "highest")?));
            Ok(())
        })?;
        let ids = [users.finish(), categories.finish(), message_ids.finish()];
        each_row(db, KNOWN_SQL, ids, |row| {
            let id = row.text(1, "id")?;
            match row.text(0, "kind")? {
                "u" => k.users.insert(parse_id("users.id", id)?),
                "c" => k.categories.insert(parse_id("categories.id", id)?),
                _ => k.message_ids.insert(parse_id("messages.id", id)?),
            };
            Ok(())
        })?;
    }
    let mut originals: HashMap<(TicketId, Option<UserId>, &str), Original<'_>> = HashMap::new();
    for m in &stored_originals {
        if let Some(key) = m.client_msg_id.as_deref() {
            originals
                .entry((m.ticket_id, m.author_id, key))
                .or_insert(Original::Stored(m));
        }
    }
    let mut next_number = 0;
    let mut known = None;
    if opens_tickets {
        let Some((counter, highest)) = numbers else {
            return Err(StoreError::backend(WriterStopped));
        };
        if highest.is_some_and(|n| n > counter) {
            return Err(StoreError::UniqueViolation {
                constraint: "tickets.number",
            });
        }
        next_number = counter + 1;
        known = Some(k);
    }

    // ------------------------------------------------------------ the plan
    let mut outcomes: Vec<Option<Outcome>> = jobs.iter().map(|_| None).collect();
    let mut message_rows = JsonRows::with_capacity(jobs.len() * 320);
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
                        read: None,
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
                let previous_status = state.ticket.status;
                let stored = m.with_seq(state.ticket.last_seq + 1);
                // The ticket as `RETURNING` would read it back: stored precision.
                let at = read_back_ts("messages.created_at", m.created_at)?;
                apply_effects(&mut state.ticket, m.kind, stored.seq, at);
                if !state.new && !state.touched {
                    touched.push(m.ticket_id);
                }
                state.touched = true;
                push_message(&mut message_rows, &stored);
                inserted.insert(stored.id);
                if let Some(key) = m.client_msg_id.as_deref() {
                    originals
                        .entry((m.ticket_id, m.author_id, key))
                        .or_insert(Original::Batch(i));
                }
                outcomes[i] = Some(Outcome::Message(Ok(InsertMessage::Inserted {
                    message: stored,
                    ticket: state.ticket.clone(),
                    previous_status,
                })));
            }
        }
    }

    // ------------------------------------------------------------ writes
    // `COMMIT` only once the writes changed exactly the rows planned
    // (set-based writes that changed another number are not trusted: the
    // caller rolls back and writes the batch one call at a time).
    if !opened.is_empty() {
        let n = run(db, COUNTER_SQL, [next_number - 1])?;
        expect_rows("ticket counter", n, 1)?;
        let mut rows = JsonRows::with_capacity(opened.len() * 400);
        for id in &opened {
            if let Some(state) = tickets.get(id) {
                push_ticket(&mut rows, &state.ticket);
            }
        }
        let planned = rows.len();
        let n = run(db, INSERT_TICKETS_SQL, [rows.finish()])?;
        expect_rows("tickets inserted", n, planned)?;
    }
    if message_rows.len() > 0 {
        let planned = message_rows.len();
        let n = run(db, INSERT_MESSAGES_SQL, [message_rows.finish()])?;
        expect_rows("messages inserted", n, planned)?;
    }
    if !touched.is_empty() {
        // Each column group only for the tickets whose values it changes:
        // SQLite rewrites a row's entry in every index (or partial index
        // condition) on a column the UPDATE sets, even to the same value.
        let mut updates = TicketUpdates::with_capacity(touched.len());
        for id in &touched {
            if let Some(TicketState {
                ticket,
                read: Some(read),
                ..
            }) = tickets.get(id)
            {
                updates.push(read, ticket);
            }
        }
        for (statement, rows) in updates.statements() {
            let planned = rows.len();
            let n = run(db, statement, [rows.finish()])?;
            expect_rows("tickets updated", n, planned)?;
        }
    }
    run(db, "COMMIT", ())?;
    Ok(outcomes.into_iter().flatten().collect())
}

/// Runs a statement that returns no rows (prepared once per connection);
/// the number of rows it changed.
fn run(db: &Connection, sql: &str, params: impl rusqlite::Params) -> StoreResult<u64> {
    let mut statement = db.prepare_cached(sql).map_err(raw_err)?;
    let changed = statement.execute(params).map_err(raw_err)?;
    Ok(changed as u64)
}

/// Runs a query (prepared once per connection) and hands `each` its rows.
fn each_row(
    db: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    mut each: impl FnMut(&rusqlite::Row<'_>) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut statement = db.prepare_cached(sql).map_err(raw_err)?;
    let mut rows = statement.query(params).map_err(raw_err)?;
    while let Some(row) = rows.next().map_err(raw_err)? {
        each(row)?;
    }
    Ok(())
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
