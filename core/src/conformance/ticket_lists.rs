//! [`TicketStore`](crate::ports::TicketStore) listing scenarios: every
//! [`TicketFilter`] field and the text search.
//!
//! Listings are scoped by something unique to the scenario: a fresh customer,
//! category or assignee.

use time::Duration;
use uuid::Uuid;

use super::fixtures::{self as fx, insert_agent, insert_ticket_as, insert_user, now};
use super::tickets::{ids, list_ids, of_customer, send};
use crate::domain::{
    AssigneeFilter, MessageKind, Priority, Ticket, TicketFilter, TicketId, TicketStatus,
};
use crate::ports::Store;

/// `customer_id` narrows a listing to one customer's tickets.
pub async fn list_filter_customer(store: &dyn Store) {
    let t = now();
    let c1 = insert_user(store, t).await;
    let c2 = insert_user(store, t).await;
    let c3 = insert_user(store, t).await;
    let a = fx::insert_ticket(store, c1.id, t).await;
    let b = fx::insert_ticket(store, c1.id, t).await;
    let x = fx::insert_ticket(store, c2.id, t).await;
    assert_eq!(list_ids(store, of_customer(&c1)).await, ids(&[a, b]));
    assert_eq!(list_ids(store, of_customer(&c2)).await, ids(&[x]));
    assert!(list_ids(store, of_customer(&c3)).await.is_empty());
}

/// `statuses` is any-of; empty means every status.
pub async fn list_filter_statuses(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let mut tickets = Vec::new();
    for status in [
        TicketStatus::New,
        TicketStatus::InProgress,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ] {
        let mut tk = fx::ticket(customer.id, t);
        tk.status = status;
        tickets.push(insert_ticket_as(store, &tk).await);
    }
    let pick = |idx: &[usize]| ids(&idx.iter().map(|&i| tickets[i].clone()).collect::<Vec<_>>());
    let with = |statuses: Vec<TicketStatus>| TicketFilter {
        statuses,
        ..of_customer(&customer)
    };
    use TicketStatus::*;
    assert_eq!(list_ids(store, with(vec![])).await, pick(&[0, 1, 2, 3]));
    assert_eq!(
        list_ids(store, with(vec![InProgress, Resolved])).await,
        pick(&[1, 2])
    );
    assert_eq!(list_ids(store, with(vec![Closed])).await, pick(&[3]));
    assert_eq!(
        list_ids(store, with(vec![New, Closed])).await,
        pick(&[0, 3])
    );
    assert_eq!(
        list_ids(store, with(vec![New, InProgress, Resolved, Closed])).await,
        pick(&[0, 1, 2, 3])
    );
}

/// `category_id` narrows to one category across customers.
pub async fn list_filter_category(store: &dyn Store) {
    let t = now();
    let c1 = insert_user(store, t).await;
    let c2 = insert_user(store, t).await;
    let cat1 = fx::category(&format!("cat{}", fx::tag()), t);
    let cat2 = fx::category(&format!("cat{}", fx::tag()), t);
    store.insert_category(&cat1).await.expect("insert category");
    store.insert_category(&cat2).await.expect("insert category");
    let mut make = Vec::new();
    for (customer, cat) in [
        (c1.id, Some(cat1.id)),
        (c2.id, Some(cat1.id)),
        (c1.id, Some(cat2.id)),
        (c1.id, None),
    ] {
        let mut tk = fx::ticket(customer, t);
        tk.category_id = cat;
        make.push(insert_ticket_as(store, &tk).await);
    }
    let by = |cat| TicketFilter {
        category_id: Some(cat),
        limit: 100,
        ..TicketFilter::default()
    };
    assert_eq!(
        list_ids(store, by(cat1.id)).await,
        ids(&make[0..2]),
        "across customers"
    );
    assert_eq!(list_ids(store, by(cat2.id)).await, ids(&make[2..3]));
    assert_eq!(
        list_ids(
            store,
            TicketFilter {
                customer_id: Some(c1.id),
                ..by(cat1.id)
            }
        )
        .await,
        ids(&make[0..1])
    );
    assert_eq!(
        list_ids(store, of_customer(&c1)).await,
        ids(&[make[0].clone(), make[2].clone(), make[3].clone()]),
        "no category filter"
    );
}

/// `priorities` is any-of; empty means every priority.
pub async fn list_filter_priorities(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let mut tickets = Vec::new();
    for p in [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ] {
        let mut tk = fx::ticket(customer.id, t);
        tk.priority = p;
        tickets.push(insert_ticket_as(store, &tk).await);
    }
    let pick = |idx: &[usize]| ids(&idx.iter().map(|&i| tickets[i].clone()).collect::<Vec<_>>());
    let with = |priorities: Vec<Priority>| TicketFilter {
        priorities,
        ..of_customer(&customer)
    };
    assert_eq!(list_ids(store, with(vec![])).await, pick(&[0, 1, 2, 3]));
    assert_eq!(
        list_ids(store, with(vec![Priority::High, Priority::Urgent])).await,
        pick(&[2, 3])
    );
    assert_eq!(list_ids(store, with(vec![Priority::Low])).await, pick(&[0]));
    assert_eq!(
        list_ids(store, with(vec![Priority::Normal, Priority::Low])).await,
        pick(&[0, 1])
    );
}

/// `assignee`: any, unassigned only, or one user's (across customers when unscoped).
pub async fn list_filter_assignee(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let other_customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let agent2 = insert_agent(store, t).await;
    let mut make = Vec::new();
    for (status, assignee) in [
        (TicketStatus::New, None),
        (TicketStatus::InProgress, Some(agent.id)),
        (TicketStatus::Resolved, Some(agent.id)),
        (TicketStatus::Closed, None),
        (TicketStatus::InProgress, Some(agent2.id)),
    ] {
        let mut tk = fx::ticket(customer.id, t);
        tk.status = status;
        tk.assignee_id = assignee;
        make.push(insert_ticket_as(store, &tk).await);
    }
    let mut foreign = fx::ticket(other_customer.id, t);
    foreign.assignee_id = Some(agent.id);
    let foreign = insert_ticket_as(store, &foreign).await;

    let pick = |idx: &[usize]| ids(&idx.iter().map(|&i| make[i].clone()).collect::<Vec<_>>());
    let with = |assignee| TicketFilter {
        assignee,
        ..of_customer(&customer)
    };
    assert_eq!(
        list_ids(store, with(AssigneeFilter::Any)).await,
        pick(&[0, 1, 2, 3, 4])
    );
    assert_eq!(
        list_ids(store, with(AssigneeFilter::User(agent.id))).await,
        pick(&[1, 2])
    );
    assert_eq!(
        list_ids(store, with(AssigneeFilter::Unassigned)).await,
        pick(&[0, 3])
    );
    assert_eq!(
        list_ids(
            store,
            TicketFilter {
                statuses: vec![TicketStatus::New],
                ..with(AssigneeFilter::Unassigned)
            }
        )
        .await,
        pick(&[0])
    );
    let mut by_agent = pick(&[1, 2]);
    by_agent.push(foreign.id);
    by_agent.sort();
    assert_eq!(
        list_ids(
            store,
            TicketFilter {
                assignee: AssigneeFilter::User(agent.id),
                limit: 100,
                ..TicketFilter::default()
            }
        )
        .await,
        by_agent,
        "assignee filter across customers"
    );
}

/// `created_from`/`updated_from` are inclusive, `created_to`/`updated_to` exclusive;
/// the ranges combine with each other.
pub async fn list_filter_date_ranges(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let base = t - Duration::days(1);
    let h = |n: i64| base + Duration::hours(n);
    // (created, updated) in hours after base.
    let mut tickets = Vec::new();
    for (created, updated) in [(0, 5), (1, 4), (2, 6), (3, 7)] {
        let mut tk = fx::ticket(customer.id, h(created));
        tk.updated_at = h(updated);
        tickets.push(insert_ticket_as(store, &tk).await);
    }
    let pick = |idx: &[usize]| ids(&idx.iter().map(|&i| tickets[i].clone()).collect::<Vec<_>>());
    let range = |cf: Option<i64>, ct: Option<i64>, uf: Option<i64>, ut: Option<i64>| TicketFilter {
        created_from: cf.map(h),
        created_to: ct.map(h),
        updated_from: uf.map(h),
        updated_to: ut.map(h),
        ..of_customer(&customer)
    };
    let check = |f: TicketFilter, want: Vec<TicketId>, what: &'static str| async move {
        assert_eq!(list_ids(store, f).await, want, "{what}");
    };
    check(
        range(Some(1), None, None, None),
        pick(&[1, 2, 3]),
        "created_from inclusive",
    )
    .await;
    check(
        range(None, Some(2), None, None),
        pick(&[0, 1]),
        "created_to exclusive",
    )
    .await;
    check(
        range(Some(1), Some(2), None, None),
        pick(&[1]),
        "created [1h, 2h)",
    )
    .await;
    check(
        range(Some(2), Some(2), None, None),
        vec![],
        "empty created range",
    )
    .await;
    check(
        range(None, None, Some(5), None),
        pick(&[0, 2, 3]),
        "updated_from inclusive",
    )
    .await;
    check(
        range(None, None, None, Some(6)),
        pick(&[0, 1]),
        "updated_to exclusive",
    )
    .await;
    check(
        range(None, None, Some(5), Some(7)),
        pick(&[0, 2]),
        "updated [5h, 7h)",
    )
    .await;
    check(
        range(Some(1), None, None, Some(7)),
        pick(&[1, 2]),
        "created and updated combined",
    )
    .await;
    check(
        range(None, Some(10), Some(0), None),
        pick(&[0, 1, 2, 3]),
        "ranges covering everything",
    )
    .await;
}

/// Every filter at once selects exactly the ticket matching all of them; relaxing one
/// filter lets in exactly the ticket that differs from the target in that respect.
pub async fn list_filters_combined(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let cat = fx::category(&format!("cat{}", fx::tag()), t);
    store.insert_category(&cat).await.expect("insert category");

    let mut target = fx::ticket(customer.id, t - Duration::hours(1));
    target.subject = "Printer jammed again".to_owned();
    target.status = TicketStatus::InProgress;
    target.priority = Priority::High;
    target.assignee_id = Some(agent.id);
    target.category_id = Some(cat.id);
    target.updated_at = t;
    let variant = |change: fn(&mut Ticket)| {
        let mut v = target.clone();
        v.id = TicketId(Uuid::now_v7());
        change(&mut v);
        v
    };
    let decoys = [
        variant(|v| v.status = TicketStatus::New),
        variant(|v| v.priority = Priority::Low),
        variant(|v| v.assignee_id = None),
        variant(|v| v.category_id = None),
        variant(|v| v.subject = "Scanner offline".to_owned()),
        variant(|v| v.created_at -= Duration::hours(3)),
        variant(|v| v.updated_at -= Duration::hours(3)),
    ];
    let target = insert_ticket_as(store, &target).await;
    let mut stored = Vec::new();
    for d in &decoys {
        stored.push(insert_ticket_as(store, d).await);
    }

    let all = TicketFilter {
        statuses: vec![TicketStatus::InProgress, TicketStatus::Resolved],
        category_id: Some(cat.id),
        priorities: vec![Priority::High, Priority::Urgent],
        assignee: AssigneeFilter::User(agent.id),
        text: Some("printer".to_owned()),
        created_from: Some(t - Duration::hours(2)),
        created_to: Some(t),
        updated_from: Some(t - Duration::hours(2)),
        updated_to: Some(t + Duration::hours(1)),
        ..of_customer(&customer)
    };
    assert_eq!(list_ids(store, all.clone()).await, vec![target.id]);

    let relaxed: [TicketFilter; 7] = [
        TicketFilter {
            statuses: vec![],
            ..all.clone()
        },
        TicketFilter {
            priorities: vec![],
            ..all.clone()
        },
        TicketFilter {
            assignee: AssigneeFilter::Any,
            ..all.clone()
        },
        TicketFilter {
            category_id: None,
            ..all.clone()
        },
        TicketFilter {
            text: None,
            ..all.clone()
        },
        TicketFilter {
            created_from: None,
            ..all.clone()
        },
        TicketFilter {
            updated_from: None,
            ..all.clone()
        },
    ];
    for (i, f) in relaxed.into_iter().enumerate() {
        assert_eq!(
            list_ids(store, f).await,
            ids(&[target.clone(), stored[i].clone()]),
            "relaxing filter #{i}"
        );
    }
}

/// `text`: every word must be a (case-insensitive) prefix of a word of the subject or
/// of one message; punctuation separates words; an empty word list is no filter.
pub async fn list_text_search(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let subject = |s: &str| {
        let mut tk = fx::ticket(customer.id, t);
        tk.subject = s.to_owned();
        tk
    };
    let refund = insert_ticket_as(store, &subject("Refunds pending for order")).await;
    let invoice = insert_ticket_as(store, &subject("Login trouble")).await;
    let mut m = fx::message(invoice.id, customer.id, t + Duration::seconds(1));
    m.body = "My INVOICE shows the wrong amount.".to_owned();
    send(store, &m).await;
    let parcel = insert_ticket_as(store, &subject("Damaged parcel")).await;
    let mut m = fx::message(parcel.id, customer.id, t + Duration::seconds(1));
    m.body = "The box was crushed".to_owned();
    send(store, &m).await;
    let mut m = fx::agent_message(parcel.id, agent.id, t + Duration::seconds(2));
    m.body = "Sorry, we will send a replacement".to_owned();
    send(store, &m).await;
    let all = ids(&[refund.clone(), invoice.clone(), parcel.clone()]);

    let search = |text: &str| TicketFilter {
        text: Some(text.to_owned()),
        ..of_customer(&customer)
    };
    let cases: &[(&str, Vec<TicketId>)] = &[
        ("refund", vec![refund.id]),
        ("REFUNDS", vec![refund.id]),
        ("Refunds, pending!", vec![refund.id]),
        ("pend ord", vec![refund.id]),
        ("fund", vec![]),
        ("refundsx", vec![]),
        ("invoice", vec![invoice.id]),
        ("wrong invoice", vec![invoice.id]),
        ("invoice refund", vec![]),
        ("parcel damaged", vec![parcel.id]),
        ("box crushed", vec![parcel.id]),
        ("replacement", vec![parcel.id]),
        // Every word in one place: the subject or one message.
        ("damaged crushed", vec![]),
        ("crushed replacement", vec![]),
        ("zebra", vec![]),
        ("", all.clone()),
        ("  ,;!  ", all.clone()),
    ];
    for (text, want) in cases {
        let mut want = want.clone();
        want.sort();
        assert_eq!(list_ids(store, search(text)).await, want, "text {text:?}");
    }
    assert_eq!(
        list_ids(
            store,
            TicketFilter {
                text: None,
                ..search("")
            }
        )
        .await,
        all
    );
}

/// Internal notes match `text` only with `include_internal`; other messages match either way.
pub async fn list_text_search_internal_notes(store: &dyn Store) {
    let t = now();
    let customer = insert_user(store, t).await;
    let agent = insert_agent(store, t).await;
    let noted = fx::insert_ticket(store, customer.id, t).await;
    let mut note = fx::message_of(
        MessageKind::InternalNote,
        noted.id,
        Some(agent.id),
        t + Duration::seconds(1),
    );
    note.body = "Suspected fraud, check the card".to_owned();
    send(store, &note).await;
    let open = fx::insert_ticket(store, customer.id, t).await;
    let mut m = fx::message(open.id, customer.id, t + Duration::seconds(1));
    m.body = "Is this a fraudulent charge?".to_owned();
    send(store, &m).await;

    let search = |text: &str, include_internal: bool| TicketFilter {
        text: Some(text.to_owned()),
        include_internal,
        ..of_customer(&customer)
    };
    assert_eq!(list_ids(store, search("fraud", false)).await, vec![open.id]);
    assert_eq!(
        list_ids(store, search("fraud", true)).await,
        ids(&[noted.clone(), open.clone()])
    );
    assert!(list_ids(store, search("suspected", false)).await.is_empty());
    assert_eq!(
        list_ids(store, search("suspected card", true)).await,
        vec![noted.id]
    );
}
