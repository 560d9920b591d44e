//! The live inbox: a REST page of tickets kept current by the gateway's
//! `ticket_event`s (`subscribe_inbox`), with unread counts per ticket and
//! the count of new tickets not opened yet (the tab title's).

use std::collections::{BTreeSet, HashMap};

use neurochat_protocol::v1::{Page, TicketChange, TicketSort, TicketView};
use uuid::Uuid;

use crate::query::InboxFilter;

/// What an event did to the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing visible (an older snapshot, or a ticket outside the filter).
    None,
    /// A new ticket arrived that the filter admits: notify.
    New(Box<TicketView>),
    /// A listed ticket changed, or one entered the list.
    Updated,
    /// A ticket left the list (it no longer matches the filter).
    Removed,
}

/// The inbox state.
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    /// The filters the list was loaded with.
    pub filter: InboxFilter,
    me: Uuid,
    tickets: HashMap<Uuid, TicketView>,
    read: HashMap<Uuid, u64>,
    unseen_new: BTreeSet<Uuid>,
    next_cursor: Option<String>,
    loaded: bool,
    /// Counts (re)loads, so a page answering an outdated one is dropped.
    load: u64,
    /// The newest event per ticket since the pending load was asked for,
    /// replayed over its page: the page may predate them.
    during_load: Option<HashMap<Uuid, (TicketView, TicketChange)>>,
}

impl Inbox {
    /// An empty inbox of agent `me`.
    pub fn new(me: Uuid, filter: InboxFilter) -> Self {
        Inbox {
            filter,
            me,
            ..Inbox::default()
        }
    }

    /// A (re)load of the first page is being asked for: returns its ticket
    /// for [`Inbox::replace`]. Events from now on are kept for replay.
    pub fn begin_load(&mut self) -> u64 {
        self.load += 1;
        self.during_load.get_or_insert_with(HashMap::new);
        self.load
    }

    /// The first page of load `load`: the list becomes this page with the
    /// events since the load began replayed over it, because the server may
    /// have read the page before them. A page of an outdated load (the
    /// filters changed again meanwhile) is dropped: returns `false`.
    /// Read positions and the unseen set survive.
    pub fn replace(&mut self, load: u64, page: Page<TicketView>) -> bool {
        if load != self.load {
            return false;
        }
        self.tickets.clear();
        self.loaded = true;
        self.put_page(page);
        let tickets = &self.tickets;
        self.unseen_new.retain(|id| tickets.contains_key(id));
        for (ticket, change) in self.during_load.take().unwrap_or_default().into_values() {
            self.apply_event(ticket, change);
        }
        true
    }

    /// A further page (`next_cursor` of the previous one), asked for during
    /// load `load`; dropped (`false`) if the list was reloaded since.
    pub fn append(&mut self, load: u64, page: Page<TicketView>) -> bool {
        if load != self.load || self.during_load.is_some() {
            return false;
        }
        self.put_page(page);
        true
    }

    /// The current load, for [`Inbox::append`].
    pub fn load(&self) -> u64 {
        self.load
    }

    fn put_page(&mut self, page: Page<TicketView>) {
        for t in page.items {
            // A row a live event already made newer stays as it is.
            match self.tickets.get(&t.id) {
                Some(held) if held.updated_at > t.updated_at => {}
                _ => {
                    self.tickets.insert(t.id, t);
                }
            }
        }
        self.next_cursor = page.next_cursor;
    }

    /// Whether the first page arrived.
    pub fn loaded(&self) -> bool {
        self.loaded
    }

    /// The cursor of the next page, if there is one.
    pub fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }

    /// Applies a `ticket_event`. Snapshots older than the one held are
    /// dropped (`updated_at`), so a late event never rolls a row back;
    /// `resync` is a snapshot like any other.
    pub fn apply_event(&mut self, ticket: TicketView, change: TicketChange) -> Change {
        let id = ticket.id;
        if let Some(kept) = self.during_load.as_mut() {
            match kept.get_mut(&id) {
                Some((held, _)) if held.updated_at > ticket.updated_at => {}
                Some((held, was)) => {
                    // A ticket created during the load stays new on replay.
                    let created = *was == TicketChange::Created;
                    *held = ticket.clone();
                    if !created {
                        *was = change;
                    }
                }
                None => {
                    kept.insert(id, (ticket.clone(), change));
                }
            }
        }
        if let Some(held) = self.tickets.get(&id)
            && held.updated_at > ticket.updated_at
        {
            return Change::None;
        }
        let listed = self.tickets.contains_key(&id);
        // A text search is the server's to judge: with one active, only
        // rows it listed are updated, none added.
        let admitted = self.filter.admits(&ticket, self.me) && (listed || !self.filter.searching());
        if !admitted {
            return if self.tickets.remove(&id).is_some() {
                self.unseen_new.remove(&id);
                Change::Removed
            } else {
                Change::None
            };
        }
        self.tickets.insert(id, ticket.clone());
        if change == TicketChange::Created && !listed {
            self.unseen_new.insert(id);
            return Change::New(Box::new(ticket));
        }
        Change::Updated
    }

    /// A message arrived live for a ticket (its `seq` moves `last_seq`).
    /// Returns whether a listed row changed.
    pub fn note_message(&mut self, ticket_id: Uuid, seq: u64) -> bool {
        match self.tickets.get_mut(&ticket_id) {
            Some(t) if t.last_seq < seq => {
                t.last_seq = seq;
                true
            }
            _ => false,
        }
    }

    /// The agent read `ticket_id` up to `seq` (opening it counts as seen).
    pub fn mark_read(&mut self, ticket_id: Uuid, seq: u64) {
        self.unseen_new.remove(&ticket_id);
        let r = self.read.entry(ticket_id).or_insert(0);
        *r = (*r).max(seq);
    }

    /// Messages of a ticket after the agent's read position.
    pub fn unread(&self, ticket_id: Uuid) -> u64 {
        let last = self.tickets.get(&ticket_id).map_or(0, |t| t.last_seq);
        last.saturating_sub(self.read.get(&ticket_id).copied().unwrap_or(0))
    }

    /// Read positions, to persist (`ticket id → seq`).
    pub fn read_positions(&self) -> &HashMap<Uuid, u64> {
        &self.read
    }

    /// Restores persisted read positions.
    pub fn set_read_positions(&mut self, read: HashMap<Uuid, u64>) {
        self.read = read;
    }

    /// New tickets that arrived live and were not opened yet.
    pub fn new_count(&self) -> usize {
        self.unseen_new.len()
    }

    /// Whether a ticket arrived live and was not opened yet.
    pub fn is_new(&self, id: Uuid) -> bool {
        self.unseen_new.contains(&id)
    }

    /// One listed ticket.
    pub fn get(&self, id: Uuid) -> Option<&TicketView> {
        self.tickets.get(&id)
    }

    /// Puts a ticket fetched by itself (REST) in the list if it belongs.
    pub fn upsert(&mut self, ticket: TicketView) -> Change {
        self.apply_event(ticket, TicketChange::Resync)
    }

    /// The rows in display order.
    pub fn rows(&self) -> Vec<&TicketView> {
        let mut rows: Vec<&TicketView> = self.tickets.values().collect();
        match self.filter.sort {
            TicketSort::Updated => {
                rows.sort_by_key(|t| std::cmp::Reverse((t.updated_at, t.number)))
            }
            TicketSort::Created => {
                rows.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.number)))
            }
            TicketSort::Priority => {
                rows.sort_by_key(|t| std::cmp::Reverse((t.priority, t.updated_at, t.number)))
            }
        }
        rows
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::query::Assignee;
    use neurochat_protocol::v1::{Priority, TicketStatus};
    use time::OffsetDateTime;

    const ME: Uuid = Uuid::from_u128(0xAA);
    const OTHER: Uuid = Uuid::from_u128(0xBB);

    fn at(min: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_767_225_600 + min * 60)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn ticket(n: u128, updated: i64) -> TicketView {
        TicketView {
            id: Uuid::from_u128(n),
            number: n as u64,
            subject: format!("t{n}"),
            customer_id: Uuid::from_u128(0xC0),
            category_id: None,
            priority: Priority::Normal,
            status: TicketStatus::New,
            assignee_id: None,
            created_at: at(0),
            updated_at: at(updated),
            first_response_at: None,
            resolved_at: None,
            last_seq: 1,
        }
    }

    /// Ticket `n` claimed by another agent (in progress) at `updated`.
    fn claimed_by_other(n: u128, updated: i64) -> TicketView {
        let mut t = ticket(n, updated);
        t.assignee_id = Some(OTHER);
        t.status = TicketStatus::InProgress;
        t
    }

    fn inbox(filter: InboxFilter) -> Inbox {
        let mut i = Inbox::new(ME, filter);
        let load = i.begin_load();
        assert!(i.replace(load, Page::last(vec![ticket(1, 1), ticket(2, 2)])));
        i
    }

    #[test]
    fn created_events_add_rows_and_count_as_new_until_opened() {
        let mut i = inbox(InboxFilter::default());
        let c = i.apply_event(ticket(3, 3), TicketChange::Created);
        assert!(matches!(c, Change::New(t) if t.number == 3));
        assert_eq!(i.new_count(), 1);
        // The same event again (a resync after a burst) is no second "new".
        assert_eq!(
            i.apply_event(ticket(3, 3), TicketChange::Created),
            Change::Updated
        );
        assert_eq!(i.new_count(), 1);
        assert_eq!(
            i.rows().iter().map(|t| t.number).collect::<Vec<_>>(),
            [3, 2, 1]
        );
        i.mark_read(Uuid::from_u128(3), 1);
        assert_eq!(i.new_count(), 0);
        assert!(!i.is_new(Uuid::from_u128(3)));
    }

    #[test]
    fn older_snapshots_never_roll_back() {
        let mut i = inbox(InboxFilter::default());
        let claimed = claimed_by_other(1, 10);
        assert_eq!(
            i.apply_event(claimed, TicketChange::Claimed),
            Change::Updated
        );
        assert_eq!(
            i.apply_event(ticket(1, 5), TicketChange::Resync),
            Change::None
        );
        assert_eq!(
            i.get(Uuid::from_u128(1)).and_then(|t| t.assignee_id),
            Some(OTHER)
        );
    }

    #[test]
    fn tickets_leaving_the_filter_leave_the_list() {
        let mut i = inbox(InboxFilter {
            assignee: Assignee::Unassigned,
            ..InboxFilter::default()
        });
        let mut claimed = ticket(2, 9);
        claimed.assignee_id = Some(OTHER);
        assert_eq!(
            i.apply_event(claimed.clone(), TicketChange::Claimed),
            Change::Removed
        );
        assert!(i.get(Uuid::from_u128(2)).is_none());
        assert_eq!(i.apply_event(claimed, TicketChange::Claimed), Change::None);
        let mut resolved = ticket(1, 9);
        resolved.status = TicketStatus::Resolved;
        assert_eq!(
            i.apply_event(resolved, TicketChange::Status),
            Change::Removed
        );
        assert!(i.rows().is_empty());
    }

    #[test]
    fn a_search_adds_nothing_live_but_updates_its_rows() {
        let mut i = inbox(InboxFilter {
            q: "login".into(),
            ..InboxFilter::default()
        });
        assert_eq!(
            i.apply_event(ticket(3, 3), TicketChange::Created),
            Change::None
        );
        let mut p = ticket(1, 4);
        p.priority = Priority::Urgent;
        assert_eq!(i.apply_event(p, TicketChange::Priority), Change::Updated);
    }

    #[test]
    fn unread_counts_follow_messages_and_reads() {
        let mut i = inbox(InboxFilter::default());
        let id = Uuid::from_u128(1);
        assert_eq!(i.unread(id), 1);
        assert!(i.note_message(id, 3));
        assert!(!i.note_message(id, 2));
        assert_eq!(i.unread(id), 3);
        i.mark_read(id, 2);
        assert_eq!(i.unread(id), 1);
        i.mark_read(id, 1);
        assert_eq!(i.unread(id), 1, "read positions only move forward");
        let saved = i.read_positions().clone();
        let mut j = inbox(InboxFilter::default());
        j.set_read_positions(saved);
        assert_eq!(j.unread(id), 0, "last_seq 1 of the reloaded page, read 2");
        assert_eq!(i.unread(Uuid::from_u128(99)), 0);
    }

    #[test]
    fn sorts_by_priority_then_recency() {
        let mut i = Inbox::new(
            ME,
            InboxFilter {
                sort: TicketSort::Priority,
                ..InboxFilter::default()
            },
        );
        let mut urgent = ticket(1, 1);
        urgent.priority = Priority::Urgent;
        let load = i.begin_load();
        i.replace(
            load,
            Page::new(vec![urgent, ticket(2, 5), ticket(3, 9)], Some("c".into())),
        );
        assert_eq!(
            i.rows().iter().map(|t| t.number).collect::<Vec<_>>(),
            [1, 3, 2]
        );
        assert_eq!(i.next_cursor(), Some("c"));
        assert!(i.append(i.load(), Page::last(vec![ticket(4, 0)])));
        assert_eq!(i.rows().len(), 4);
        assert_eq!(i.next_cursor(), None);
        assert!(i.loaded());
    }

    /// The browser test's race: the filter changes, another agent claims a
    /// ticket, and the page the server read before the claim arrives last.
    #[test]
    fn a_page_older_than_a_live_event_does_not_bring_its_row_back() {
        let mut i = inbox(InboxFilter::default());
        i.filter.assignee = Assignee::Unassigned;
        let load = i.begin_load();
        let claimed = claimed_by_other(1, 9);
        assert_eq!(
            i.apply_event(claimed, TicketChange::Claimed),
            Change::Removed
        );
        let created = ticket(3, 10);
        assert!(matches!(
            i.apply_event(created, TicketChange::Created),
            Change::New(_)
        ));
        // Read before both events: t1 unassigned, t3 not there yet.
        assert!(i.replace(load, Page::last(vec![ticket(1, 1), ticket(2, 2)])));
        let ids: Vec<u64> = i.rows().iter().map(|t| t.number).collect();
        assert_eq!(ids, [3, 2], "t1 stays out, t3 stays in");
        assert!(i.is_new(Uuid::from_u128(3)), "t3 is still new");
        // After the load, events are no longer kept.
        assert!(i.during_load.is_none());
    }

    #[test]
    fn only_the_latest_load_fills_the_list() {
        let mut i = inbox(InboxFilter::default());
        let first = i.begin_load();
        assert!(
            !i.append(first, Page::last(vec![ticket(5, 1)])),
            "no further page while the first is pending"
        );
        let second = i.begin_load();
        assert!(!i.replace(first, Page::last(vec![ticket(7, 1)])));
        assert!(i.rows().iter().all(|t| t.number != 7));
        assert!(i.replace(second, Page::new(vec![ticket(8, 1)], Some("n".into()))));
        assert_eq!(i.rows().len(), 1);
        assert!(!i.append(first, Page::last(vec![ticket(9, 1)])));
        assert!(i.append(second, Page::last(vec![ticket(9, 1)])));
        assert_eq!(i.rows().len(), 2);
    }

    #[test]
    fn a_further_page_keeps_rows_a_live_event_made_newer() {
        let mut i = inbox(InboxFilter::default());
        let mut p = ticket(2, 6);
        p.priority = Priority::Urgent;
        i.apply_event(p, TicketChange::Priority);
        assert!(i.append(i.load(), Page::last(vec![ticket(2, 2)])));
        assert_eq!(
            i.get(Uuid::from_u128(2)).map(|t| t.priority),
            Some(Priority::Urgent)
        );
    }
}
