//! Ticket lifecycle, claims, assignment, categories, search and the role ×
//! operation table for tickets.
#![allow(clippy::unwrap_used)]

mod support;

use neurochat_core::domain::{
    AssigneeFilter, AuditAction, AuditFilter, Priority, TicketFilter, TicketSort, TicketStatus,
};
use neurochat_core::service::tickets::NewTicket;
use neurochat_core::{Error, Principal};
use neurochat_protocol::v1::{ErrorCode, FieldErrorCode};
use support::{Env, ctx, env};

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> ErrorCode {
    r.expect_err("expected an error").code()
}

fn new_ticket(subject: &str, body: &str) -> NewTicket {
    NewTicket {
        subject: subject.into(),
        body: body.into(),
        client_msg_id: format!("c-{}", uuid::Uuid::now_v7().simple()),
        category_id: None,
        priority: None,
    }
}

#[tokio::test]
async fn opening_a_ticket_stores_it_with_its_first_message() {
    let env = env();
    let c = env.customer("cara@example.com").await;
    let (t, m) = env
        .desk
        .create_ticket(
            &c,
            new_ticket("  Broken login ", " It fails \n with 500 "),
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(t.subject, "Broken login");
    assert_eq!(
        (t.status, t.priority, t.assignee_id),
        (TicketStatus::New, Priority::Normal, None)
    );
    assert!(t.number >= 1);
    assert_eq!((m.seq, m.body.as_str()), (1, "It fails \n with 500"));
    assert_eq!(t.last_seq, 1);
    assert_eq!(t.awaiting_since, Some(m.created_at));
    let t2 = env.open_ticket(&c, "Second").await;
    assert_eq!(t2.number, t.number + 1);

    // Opening is idempotent by the first message's client id: a resend (lost
    // reply) returns the original ticket, also when resends race.
    let mut resend = new_ticket("Broken login", "It fails");
    resend.client_msg_id = m.client_msg_id.clone().unwrap();
    let (again, first) = env
        .desk
        .create_ticket(&c, resend.clone(), &ctx())
        .await
        .unwrap();
    assert_eq!((again.id, first.id), (t.id, m.id));
    let mut racing = new_ticket("Race", "Same key");
    racing.client_msg_id = "race-key".into();
    let c2 = ctx();
    let opened = futures_util::future::join_all(
        (0..8).map(|_| env.desk.create_ticket(&c, racing.clone(), &c2)),
    )
    .await;
    let ids: std::collections::HashSet<_> = opened.into_iter().map(|r| r.unwrap().0.id).collect();
    assert_eq!(ids.len(), 1, "one ticket however many resends");

    // Validation names every bad field and writes nothing.
    let before = env
        .desk
        .list_tickets(&c, TicketFilter::default())
        .await
        .unwrap()
        .len();
    let err = env
        .desk
        .create_ticket(
            &c,
            NewTicket {
                subject: "s".repeat(201),
                body: "x\u{1b}[2J".into(),
                client_msg_id: String::new(),
                category_id: None,
                priority: None,
            },
            &ctx(),
        )
        .await
        .unwrap_err();
    let fields: Vec<_> = err.violations().iter().map(|v| (v.field, v.code)).collect();
    assert_eq!(
        fields,
        [
            ("subject", FieldErrorCode::TooLong),
            ("body", FieldErrorCode::InvalidCharacters),
            ("client_msg_id", FieldErrorCode::Required)
        ]
    );
    let body_err = env
        .desk
        .create_ticket(&c, new_ticket("ok", &"b".repeat(4001)), &ctx())
        .await
        .unwrap_err();
    assert_eq!(body_err.violations()[0].code, FieldErrorCode::TooLong);
    assert_eq!(
        env.desk
            .list_tickets(&c, TicketFilter::default())
            .await
            .unwrap()
            .len(),
        before
    );
}

/// Puts a fresh ticket into `status` (as seen by `agent`).
async fn ticket_in(
    env: &Env,
    customer: &Principal,
    agent: &Principal,
    status: TicketStatus,
) -> neurochat_core::domain::Ticket {
    let t = env.open_ticket(customer, "lifecycle").await;
    let d = &env.desk;
    if status == TicketStatus::New {
        return t;
    }
    d.claim_ticket(agent, t.id, &ctx()).await.unwrap();
    if status == TicketStatus::InProgress {
        return d.get_ticket(agent, t.id).await.unwrap();
    }
    d.set_ticket_status(agent, t.id, TicketStatus::Resolved, &ctx())
        .await
        .unwrap();
    if status == TicketStatus::Resolved {
        return d.get_ticket(agent, t.id).await.unwrap();
    }
    d.set_ticket_status(agent, t.id, TicketStatus::Closed, &ctx())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_status_transition_is_allowed_or_rejected_as_specified() {
    use TicketStatus::*;
    let env = env();
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "al@example.com").await;
    let customer = env.customer("cy@example.com").await;
    let ok = None;
    let invalid = Some(ErrorCode::InvalidTransition);
    let closed = Some(ErrorCode::TicketClosed);
    // (from, to, outcome for staff)
    let table = [
        (New, New, ok),
        (New, InProgress, ok),
        (New, Resolved, ok),
        (New, Closed, invalid),
        (InProgress, New, invalid),
        (InProgress, InProgress, ok),
        (InProgress, Resolved, ok),
        (InProgress, Closed, invalid),
        (Resolved, New, invalid),
        (Resolved, InProgress, ok),
        (Resolved, Resolved, ok),
        (Resolved, Closed, ok),
        (Closed, New, closed),
        (Closed, InProgress, closed),
        (Closed, Resolved, closed),
        (Closed, Closed, closed),
    ];
    for (from, to, expected) in table {
        let t = ticket_in(&env, &customer, &agent, from).await;
        assert_eq!(t.status, from);
        let got = env.desk.set_ticket_status(&agent, t.id, to, &ctx()).await;
        assert_eq!(
            got.as_ref().err().map(Error::code),
            expected,
            "{from:?} -> {to:?}"
        );
        if let Ok(after) = got {
            assert_eq!(after.status, to, "{from:?} -> {to:?}");
            if to == Resolved {
                assert!(after.resolved_at.is_some());
            }
            if (from, to) == (New, InProgress) {
                assert_eq!(
                    after.assignee_id,
                    Some(agent.user_id()),
                    "moving to in_progress claims it"
                );
            }
        }
    }
    // Customers may only resolve, and only their own tickets.
    for from in [New, InProgress] {
        let t = ticket_in(&env, &customer, &agent, from).await;
        assert_eq!(
            env.desk
                .set_ticket_status(&customer, t.id, Resolved, &ctx())
                .await
                .unwrap()
                .status,
            Resolved
        );
    }
    let t = ticket_in(&env, &customer, &agent, Resolved).await;
    assert_eq!(
        code(
            env.desk
                .set_ticket_status(&customer, t.id, InProgress, &ctx())
                .await
        ),
        ErrorCode::Forbidden
    );
    let stranger = env.customer("stranger@example.com").await;
    let t = ticket_in(&env, &customer, &agent, New).await;
    assert_eq!(
        code(
            env.desk
                .set_ticket_status(&stranger, t.id, Resolved, &ctx())
                .await
        ),
        ErrorCode::NotFound
    );
    // Reopening an unassigned resolved ticket puts it back to new.
    let t = env.open_ticket(&customer, "unassigned").await;
    env.desk
        .set_ticket_status(&customer, t.id, Resolved, &ctx())
        .await
        .unwrap();
    assert_eq!(
        env.desk
            .set_ticket_status(&agent, t.id, InProgress, &ctx())
            .await
            .unwrap()
            .status,
        New
    );
    // Every change is audited.
    let audit = env
        .desk
        .list_audit(
            &admin,
            AuditFilter {
                action: Some(AuditAction::TicketStatusChanged),
                limit: 100,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.detail.as_deref() == Some("resolved -> closed"))
    );
}

#[tokio::test]
async fn concurrent_claims_have_exactly_one_winner() {
    let env = env();
    let (_, admin) = env.admin().await;
    let mut agents = Vec::new();
    for i in 0..12 {
        agents.push(env.agent(&admin, &format!("agent{i}@example.com")).await);
    }
    let customer = env.customer("race@example.com").await;
    let t = env.open_ticket(&customer, "race").await;
    let c = ctx();
    let results =
        futures_util::future::join_all(agents.iter().map(|a| env.desk.claim_ticket(a, t.id, &c)))
            .await;
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let winner = winners[0].assignee_id.unwrap();
    for r in &results {
        if let Err(e) = r {
            assert_eq!(e.code(), ErrorCode::AlreadyClaimed);
            let body = e.to_body();
            assert!(
                !body.message.contains(&winner.to_string()),
                "names no private data"
            );
            assert!(!body.message.contains('@'), "{}", body.message);
        }
    }
    let stored = env.desk.get_ticket(&admin, t.id).await.unwrap();
    assert_eq!(
        (stored.assignee_id, stored.status),
        (Some(winner), TicketStatus::InProgress)
    );
    // The winner claiming again is a no-op, not an error.
    let w = agents.iter().find(|a| a.user_id() == winner).unwrap();
    assert_eq!(
        env.desk
            .claim_ticket(w, t.id, &ctx())
            .await
            .unwrap()
            .version,
        stored.version
    );
}

#[tokio::test]
async fn assign_reassign_unassign_and_offline_assignee_mail() {
    let env = env();
    let (_, admin) = env.admin().await;
    let a = env.agent(&admin, "ann.agent@example.com").await;
    let b = env.agent(&admin, "bob.agent@example.com").await;
    env.desk
        .set_agent_settings(
            &b,
            b.user_id(),
            Some(neurochat_core::domain::Availability::Online),
            None,
        )
        .await
        .unwrap();
    let customer = env.customer("cust@example.com").await;
    let t = env.open_ticket(&customer, "assign me").await;
    let d = &env.desk;
    let t1 = d
        .assign_ticket(&a, t.id, Some(a.user_id()), &ctx())
        .await
        .unwrap();
    assert_eq!(
        (t1.assignee_id, t1.status),
        (Some(a.user_id()), TicketStatus::InProgress)
    );
    let t2 = d
        .assign_ticket(&admin, t.id, Some(b.user_id()), &ctx())
        .await
        .unwrap();
    assert_eq!(t2.assignee_id, Some(b.user_id()));
    let t3 = d.assign_ticket(&a, t.id, None, &ctx()).await.unwrap();
    assert_eq!((t3.assignee_id, t3.status), (None, TicketStatus::New));
    // Only active staff can be assignees; customers cannot assign.
    let err = d
        .assign_ticket(&a, t.id, Some(customer.user_id()), &ctx())
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].field, "assignee_id");
    assert_eq!(
        code(
            d.assign_ticket(&customer, t.id, Some(a.user_id()), &ctx())
                .await
        ),
        ErrorCode::Forbidden
    );
    // Agent `a` was offline when assigned: exactly one mail; online `b` got none.
    d.deliver_outbox(10).await.unwrap();
    let mails = env.mailer.sent();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, "ann.agent@example.com");
    assert!(mails[0].subject.contains(&format!("#{}", t.number)));
    let actions: Vec<_> = d
        .list_audit(&admin, AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&AuditAction::TicketAssigned));
    assert!(actions.contains(&AuditAction::TicketUnassigned));
}

#[tokio::test]
async fn categories_are_unique_archivable_and_enforced_on_tickets() {
    let env = env();
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "cat.agent@example.com").await;
    let customer = env.customer("cat.cust@example.com").await;
    let d = &env.desk;
    let billing = d
        .create_category(&admin, " Billing ", &ctx())
        .await
        .unwrap();
    assert_eq!(billing.name, "Billing");
    assert_eq!(
        code(d.create_category(&admin, "BILLING", &ctx()).await),
        ErrorCode::NameTaken
    );
    assert_eq!(
        code(d.create_category(&agent, "Other", &ctx()).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        d.create_category(&admin, "", &ctx())
            .await
            .unwrap_err()
            .violations()[0]
            .field,
        "name"
    );
    let tech = d.create_category(&admin, "Tech", &ctx()).await.unwrap();
    assert_eq!(
        code(
            d.update_category(&admin, tech.id, Some("billing"), None, &ctx())
                .await
        ),
        ErrorCode::NameTaken
    );
    let renamed = d
        .update_category(&admin, tech.id, Some("Technical"), None, &ctx())
        .await
        .unwrap();
    assert_eq!(renamed.name, "Technical");

    let mut nt = new_ticket("Invoice", "Wrong amount");
    nt.category_id = Some(billing.id);
    let (t, _) = d.create_ticket(&customer, nt, &ctx()).await.unwrap();
    d.update_category(&admin, billing.id, None, Some(true), &ctx())
        .await
        .unwrap();
    // Archived: stays on the old ticket, cannot be chosen again.
    assert_eq!(
        d.get_ticket(&agent, t.id).await.unwrap().category_id,
        Some(billing.id)
    );
    let mut again = new_ticket("Invoice 2", "Again");
    again.category_id = Some(billing.id);
    assert_eq!(
        code(d.create_ticket(&customer, again, &ctx()).await),
        ErrorCode::CategoryArchived
    );
    assert_eq!(
        code(
            d.set_ticket_category(&agent, t.id, Some(billing.id), &ctx())
                .await
        ),
        ErrorCode::CategoryArchived
    );
    assert_eq!(
        d.list_categories(&customer).await.unwrap().len(),
        1,
        "customers see active ones"
    );
    assert_eq!(d.list_categories(&agent).await.unwrap().len(), 2);
    // Filtering by category.
    let t2 = d
        .set_ticket_category(&agent, t.id, Some(tech.id), &ctx())
        .await
        .unwrap();
    assert_eq!(t2.category_id, Some(tech.id));
    let found = d
        .list_tickets(
            &agent,
            TicketFilter {
                category_id: Some(tech.id),
                ..TicketFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.iter().map(|t| t.id).collect::<Vec<_>>(), [t.id]);
    let p = d
        .set_ticket_priority(&agent, t.id, Priority::Urgent, &ctx())
        .await
        .unwrap();
    assert_eq!(p.priority, Priority::Urgent);
}

#[tokio::test]
async fn customers_only_ever_see_their_own_tickets_and_never_internal_note_text() {
    let env = env();
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "search.agent@example.com").await;
    let ann = env.customer("ann.c@example.com").await;
    let ben = env.customer("ben.c@example.com").await;
    let ta = env.open_ticket(&ann, "Printer jammed").await;
    let tb = env.open_ticket(&ben, "Printer smoking").await;
    let d = &env.desk;
    d.post_message(
        &agent,
        neurochat_core::service::chat::PostMessage {
            ticket_id: ta.id,
            body: "customer seems grumpy".into(),
            client_msg_id: "note-1".into(),
            internal: true,
        },
    )
    .await
    .unwrap();
    let text = |q: &str| TicketFilter {
        text: Some(q.into()),
        ..TicketFilter::default()
    };
    let ids =
        |v: Vec<neurochat_core::domain::Ticket>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(
        ids(d.list_tickets(&ann, TicketFilter::default()).await.unwrap()),
        [ta.id]
    );
    // Even asking for someone else's tickets gives only one's own.
    let sneaky = TicketFilter {
        customer_id: Some(ben.user_id()),
        ..TicketFilter::default()
    };
    assert_eq!(ids(d.list_tickets(&ann, sneaky).await.unwrap()), [ta.id]);
    assert_eq!(
        ids(d.list_tickets(&ann, text("printer")).await.unwrap()),
        [ta.id]
    );
    assert!(
        d.list_tickets(&ann, text("grumpy"))
            .await
            .unwrap()
            .is_empty(),
        "internal notes are not searchable by customers"
    );
    assert_eq!(
        ids(d.list_tickets(&agent, text("grumpy")).await.unwrap()),
        [ta.id]
    );
    let mut both = ids(d.list_tickets(&agent, text("printer")).await.unwrap());
    both.sort();
    let mut expected = vec![ta.id, tb.id];
    expected.sort();
    assert_eq!(both, expected);
    assert_eq!(code(d.get_ticket(&ann, tb.id).await), ErrorCode::NotFound);
    let err = d
        .list_tickets(&agent, text(&"q".repeat(201)))
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].field, "q");
    // Filters and keyset pages through the service.
    d.claim_ticket(&agent, tb.id, &ctx()).await.unwrap();
    let mine = TicketFilter {
        assignee: AssigneeFilter::User(agent.user_id()),
        ..TicketFilter::default()
    };
    assert_eq!(ids(d.list_tickets(&agent, mine).await.unwrap()), [tb.id]);
    let unassigned = TicketFilter {
        assignee: AssigneeFilter::Unassigned,
        ..TicketFilter::default()
    };
    assert_eq!(
        ids(d.list_tickets(&agent, unassigned).await.unwrap()),
        [ta.id]
    );
    let page1 = d
        .list_tickets(
            &agent,
            TicketFilter {
                sort: TicketSort::CreatedAsc,
                limit: 1,
                ..TicketFilter::default()
            },
        )
        .await
        .unwrap();
    let after = neurochat_core::domain::TicketCursor::of(&page1[0], TicketSort::CreatedAsc);
    let encoded = after.encode();
    let page2 = d
        .list_tickets(
            &agent,
            TicketFilter {
                sort: TicketSort::CreatedAsc,
                limit: 1,
                after: neurochat_core::domain::TicketCursor::decode(&encoded),
                ..TicketFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((page1[0].id, page2[0].id), (ta.id, tb.id));
}

#[tokio::test]
async fn role_by_operation_table_for_tickets_and_messages() {
    use neurochat_core::service::chat::{HistoryPage, PostMessage};
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    enum Cell {
        Ok,
        No(ErrorCode),
    }
    use Cell::{No, Ok as Yes};
    let forbidden = No(ErrorCode::Forbidden);
    let hidden = No(ErrorCode::NotFound);
    let ops: &[(&str, [Cell; 3])] = &[
        ("create_ticket", [Yes, forbidden, forbidden]),
        ("get_ticket(someone else's)", [hidden, Yes, Yes]),
        ("claim", [forbidden, Yes, Yes]),
        ("assign", [forbidden, Yes, Yes]),
        ("set_priority", [forbidden, Yes, Yes]),
        ("set_category", [forbidden, Yes, Yes]),
        ("resolve(someone else's)", [hidden, Yes, Yes]),
        ("post(someone else's)", [hidden, Yes, Yes]),
        ("internal_note(own ticket)", [forbidden, Yes, Yes]),
        ("history(someone else's)", [hidden, Yes, Yes]),
        ("receipts(someone else's)", [hidden, Yes, Yes]),
        ("typing(someone else's)", [hidden, Yes, Yes]),
        ("create_category", [forbidden, forbidden, Yes]),
    ];
    for (op, expected) in ops {
        for (i, role) in ["customer", "agent", "admin"].into_iter().enumerate() {
            let env = env();
            let (_, admin) = env.admin().await;
            let owner = env.customer("owner@example.com").await;
            let actor = match role {
                "customer" => env.customer("actor@example.com").await,
                "agent" => env.agent(&admin, "actor@example.com").await,
                _ => admin.clone(),
            };
            let category = env
                .desk
                .create_category(&admin, "General", &ctx())
                .await
                .unwrap();
            let theirs = env.open_ticket(&owner, "theirs").await;
            let d = &env.desk;
            let cell = |r: Result<(), Error>| match r {
                Ok(()) => Yes,
                Err(e) => No(e.code()),
            };
            let post = |ticket_id, internal| PostMessage {
                ticket_id,
                body: "hi".into(),
                client_msg_id: "x-1".into(),
                internal,
            };
            let got = match *op {
                "create_ticket" => cell(
                    d.create_ticket(&actor, new_ticket("s", "b"), &ctx())
                        .await
                        .map(drop),
                ),
                "get_ticket(someone else's)" => {
                    cell(d.get_ticket(&actor, theirs.id).await.map(drop))
                }
                "claim" => cell(d.claim_ticket(&actor, theirs.id, &ctx()).await.map(drop)),
                "assign" => cell(
                    d.assign_ticket(&actor, theirs.id, Some(admin.user_id()), &ctx())
                        .await
                        .map(drop),
                ),
                "set_priority" => cell(
                    d.set_ticket_priority(&actor, theirs.id, Priority::High, &ctx())
                        .await
                        .map(drop),
                ),
                "set_category" => cell(
                    d.set_ticket_category(&actor, theirs.id, Some(category.id), &ctx())
                        .await
                        .map(drop),
                ),
                "resolve(someone else's)" => cell(
                    d.set_ticket_status(&actor, theirs.id, TicketStatus::Resolved, &ctx())
                        .await
                        .map(drop),
                ),
                "post(someone else's)" => cell(
                    d.post_message(&actor, post(theirs.id, false))
                        .await
                        .map(drop),
                ),
                "internal_note(own ticket)" => {
                    let target = if role == "customer" {
                        env.open_ticket(&actor, "mine").await.id
                    } else {
                        theirs.id
                    };
                    cell(d.post_message(&actor, post(target, true)).await.map(drop))
                }
                "history(someone else's)" => cell(
                    d.list_messages(&actor, theirs.id, HistoryPage::Latest, 50)
                        .await
                        .map(drop),
                ),
                "receipts(someone else's)" => cell(
                    d.mark_receipt(&actor, theirs.id, Some(1), Some(1))
                        .await
                        .map(drop),
                ),
                "typing(someone else's)" => cell(d.set_typing(&actor, theirs.id, true).await),
                "create_category" => {
                    cell(d.create_category(&actor, "New one", &ctx()).await.map(drop))
                }
                other => panic!("unknown op {other}"),
            };
            assert_eq!(got, expected[i], "`{op}` as {role}");
        }
    }
}

/// A ticket's audit trail: staff only (the ticket's customer `forbidden`,
/// another customer and unknown tickets `not_found`), only that ticket's
/// entries, newest first, paged; agents do not see source addresses.
#[tokio::test]
async fn ticket_audit_trail_is_for_staff_and_holds_only_that_ticket() {
    let env = env();
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "ana@example.com").await;
    let owner = env.customer("cara@example.com").await;
    let other = env.customer("oscar@example.com").await;
    let t = env.open_ticket(&owner, "Trail").await;
    let elsewhere = env.open_ticket(&owner, "Elsewhere").await;
    let d = &env.desk;
    d.claim_ticket(&agent, t.id, &ctx()).await.unwrap();
    d.set_ticket_priority(&agent, t.id, Priority::High, &ctx())
        .await
        .unwrap();
    d.claim_ticket(&agent, elsewhere.id, &ctx()).await.unwrap();
    d.set_ticket_status(&owner, t.id, TicketStatus::Resolved, &ctx())
        .await
        .unwrap();

    let all = AuditFilter::default();
    let trail = d.ticket_audit(&admin, t.id, all.clone()).await.unwrap();
    let actions: Vec<_> = trail.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::TicketStatusChanged,
            AuditAction::TicketPriorityChanged,
            AuditAction::TicketClaimed,
        ],
        "newest first, only this ticket"
    );
    let target = t.id.to_string();
    assert!(
        trail
            .iter()
            .all(|e| e.target_id.as_deref() == Some(target.as_str())
                && e.target_type.as_deref() == Some("ticket"))
    );
    assert!(
        trail.iter().all(|e| e.source_ip.is_some()),
        "admins see addresses"
    );

    let seen_by_agent = d.ticket_audit(&agent, t.id, all.clone()).await.unwrap();
    assert_eq!(seen_by_agent.len(), 3);
    assert!(
        seen_by_agent.iter().all(|e| e.source_ip.is_none()),
        "agents see no addresses"
    );

    // Paging with the last id, and the other filters.
    let first = d
        .ticket_audit(
            &agent,
            t.id,
            AuditFilter {
                limit: 2,
                ..all.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    let rest = d
        .ticket_audit(
            &agent,
            t.id,
            AuditFilter {
                limit: 2,
                before: first.last().map(|e| e.id),
                ..all.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].action, AuditAction::TicketClaimed);
    let claims = d
        .ticket_audit(
            &agent,
            t.id,
            AuditFilter {
                action: Some(AuditAction::TicketClaimed),
                ..all.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);

    assert_eq!(
        code(d.ticket_audit(&owner, t.id, all.clone()).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(d.ticket_audit(&other, t.id, all.clone()).await),
        ErrorCode::NotFound
    );
    let unknown = neurochat_core::domain::TicketId(uuid::Uuid::now_v7());
    assert_eq!(
        code(d.ticket_audit(&agent, unknown, all).await),
        ErrorCode::NotFound
    );
}
