//! Background work on the manual clock: SLA escalations (once per breach),
//! auto-close, batched customer emails with retry, and auto-assignment.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration as StdDuration;

use neurochat_core::domain::{Availability, TicketStatus};
use neurochat_core::events::{EscalationReason, Event, Topic};
use neurochat_core::ports::{Delivery, Subscription};
use neurochat_protocol::v1::ErrorCode;
use support::{ctx, env};
use time::Duration;

/// Every event waiting on a subscription right now.
async fn drain(sub: &mut Subscription) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(Some(Delivery::Event(e))) = tokio::time::timeout(
        StdDuration::from_millis(30),
        futures_util::StreamExt::next(sub),
    )
    .await
    {
        out.push(e);
    }
    out
}

fn escalations(events: &[Event]) -> Vec<EscalationReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Escalated { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn escalations_fire_on_time_and_once_per_breach() {
    let env = env(); // defaults: new after 15 min, unanswered after 60 min
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "sla.agent@example.com").await;
    let c = env.customer("sla.cust@example.com").await;
    let d = &env.desk;
    let mut inbox = d.bus().subscribe(Topic::Inbox).await.unwrap();
    let t = env.open_ticket(&c, "urgent-ish").await;
    drain(&mut inbox).await;

    env.clock
        .advance(Duration::minutes(15) - Duration::seconds(1));
    assert_eq!(d.run_escalations().await.unwrap(), 0);
    env.clock.advance(Duration::seconds(1));
    assert_eq!(d.run_escalations().await.unwrap(), 1);
    assert_eq!(
        escalations(&drain(&mut inbox).await),
        [EscalationReason::NewTooLong]
    );
    assert!(
        d.get_ticket(&agent, t.id)
            .await
            .unwrap()
            .escalated_new_at
            .is_some(),
        "recorded on the ticket"
    );
    assert_eq!(d.run_escalations().await.unwrap(), 0, "once per breach");

    // First-response SLA: the customer's first message has waited 60 min.
    env.clock
        .advance(Duration::minutes(45) - Duration::seconds(1));
    assert_eq!(d.run_escalations().await.unwrap(), 0);
    env.clock.advance(Duration::seconds(1));
    assert_eq!(d.run_escalations().await.unwrap(), 1);
    assert_eq!(
        escalations(&drain(&mut inbox).await),
        [EscalationReason::Unanswered]
    );
    assert_eq!(d.run_escalations().await.unwrap(), 0);

    // An answer ends the breach; a new customer message starts a new one.
    d.claim_ticket(&agent, t.id, &ctx()).await.unwrap();
    env.say(&agent, t.id, "On it").await;
    env.clock.advance(Duration::hours(5));
    assert_eq!(
        d.run_escalations().await.unwrap(),
        0,
        "answered tickets do not escalate"
    );
    env.say(&c, t.id, "Any news?").await;
    let mut mine = d
        .bus()
        .subscribe(Topic::User(agent.user_id()))
        .await
        .unwrap();
    env.clock.advance(Duration::minutes(60));
    assert_eq!(d.run_escalations().await.unwrap(), 1);
    assert_eq!(
        escalations(&drain(&mut mine).await),
        [EscalationReason::Unanswered],
        "the assignee hears of it"
    );
    assert_eq!(d.run_escalations().await.unwrap(), 0);
    // Resolved tickets never escalate.
    d.set_ticket_status(&agent, t.id, TicketStatus::Resolved, &ctx())
        .await
        .unwrap();
    env.clock.advance(Duration::days(1));
    assert_eq!(d.run_escalations().await.unwrap(), 0);
}

#[tokio::test]
async fn resolved_tickets_close_after_the_configured_time() {
    let env = env(); // close after 7 days
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "close.agent@example.com").await;
    let c = env.customer("close.cust@example.com").await;
    let d = &env.desk;
    let t = env.open_ticket(&c, "to close").await;
    d.set_ticket_status(&c, t.id, TicketStatus::Resolved, &ctx())
        .await
        .unwrap();
    let open = env.open_ticket(&c, "stays open").await;
    env.clock.advance(Duration::days(7) - Duration::seconds(1));
    assert_eq!(d.close_resolved_tickets().await.unwrap(), 0);
    env.clock.advance(Duration::seconds(1));
    assert_eq!(d.close_resolved_tickets().await.unwrap(), 1);
    let closed = d.get_ticket(&agent, t.id).await.unwrap();
    assert_eq!(closed.status, TicketStatus::Closed);
    assert!(closed.closed_at.is_some());
    assert_eq!(
        d.get_ticket(&agent, open.id).await.unwrap().status,
        TicketStatus::New
    );
    // Read-only now; a new message means a new ticket.
    let err = d
        .post_message(
            &c,
            neurochat_core::service::chat::PostMessage {
                ticket_id: t.id,
                body: "back again".into(),
                client_msg_id: "late".into(),
                internal: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::TicketClosed);
    assert_eq!(d.close_resolved_tickets().await.unwrap(), 0);
}

#[tokio::test]
async fn unread_replies_are_mailed_once_per_batch_with_retry() {
    let env = env(); // customer mail after 10 min
    let (_, admin) = env.admin().await;
    let agent = env.agent(&admin, "mail.agent@example.com").await;
    let c = env.customer("mail.cust@example.com").await;
    let d = &env.desk;
    let t = env.open_ticket(&c, "Where is my order").await;
    d.claim_ticket(&agent, t.id, &ctx()).await.unwrap();
    for body in ["Looking into it", "Found it", "Ships tomorrow"] {
        env.say(&agent, t.id, body).await;
        env.clock.advance(Duration::minutes(1));
    }
    // 10 minutes after the last reply, not before.
    env.clock.advance(Duration::minutes(8));
    assert_eq!(d.notify_customers().await.unwrap(), 0);
    env.clock.advance(Duration::minutes(1));
    env.mailer.set_failing(true);
    assert_eq!(d.notify_customers().await.unwrap(), 1);
    assert_eq!(d.notify_customers().await.unwrap(), 0, "one mail per batch");
    let r = d.deliver_outbox(10).await.unwrap();
    assert_eq!((r.sent, r.failed), (0, 1));
    env.mailer.set_failing(false);
    env.clock.advance(Duration::seconds(30));
    assert_eq!(
        d.deliver_outbox(10).await.unwrap().sent,
        1,
        "retried after backoff"
    );
    let mails = env.mailer.sent();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "mail.cust@example.com");
    for body in ["Looking into it", "Found it", "Ships tomorrow"] {
        assert!(mails[0].body.contains(body), "the batch quotes every reply");
    }
    assert!(mails[0].body.contains("3 new replies"));

    // A reply the customer reads in time is not mailed.
    env.say(&agent, t.id, "Anything else?").await;
    let last = d.get_ticket(&c, t.id).await.unwrap().last_seq;
    d.mark_receipt(&c, t.id, Some(last), Some(last))
        .await
        .unwrap();
    env.clock.advance(Duration::minutes(30));
    assert_eq!(d.notify_customers().await.unwrap(), 0);
    // Internal notes are never mailed.
    d.post_message(
        &agent,
        neurochat_core::service::chat::PostMessage {
            ticket_id: t.id,
            body: "note".into(),
            client_msg_id: "n".into(),
            internal: true,
        },
    )
    .await
    .unwrap();
    env.clock.advance(Duration::minutes(30));
    assert_eq!(d.notify_customers().await.unwrap(), 0);
    d.deliver_outbox(10).await.unwrap();
    assert_eq!(env.mailer.sent().len(), 1);
}

#[tokio::test]
async fn auto_assignment_picks_the_least_loaded_online_agent_and_waits_otherwise() {
    let mut cfg = support::config();
    cfg.tickets.auto_assign = true;
    let env = support::env_with(cfg);
    let (_, admin) = env.admin().await;
    let a = env.agent(&admin, "auto.a@example.com").await;
    let b = env.agent(&admin, "auto.b@example.com").await;
    let c = env.customer("auto.cust@example.com").await;
    let d = &env.desk;
    // Nobody online: the ticket waits.
    let t1 = env.open_ticket(&c, "one").await;
    assert_eq!(t1.assignee_id, None);
    // `a` comes online with room for 1: the waiting ticket goes to them.
    d.set_agent_settings(&a, a.user_id(), Some(Availability::Online), Some(1))
        .await
        .unwrap();
    assert_eq!(
        d.get_ticket(&a, t1.id).await.unwrap().assignee_id,
        Some(a.user_id())
    );
    // `a` is full; `b` is away: the next ticket waits.
    d.set_agent_settings(&b, b.user_id(), Some(Availability::Away), Some(3))
        .await
        .unwrap();
    let t2 = env.open_ticket(&c, "two").await;
    assert_eq!(t2.assignee_id, None);
    // `a` frees capacity by resolving: t2 goes to `a`.
    d.set_ticket_status(&a, t1.id, TicketStatus::Resolved, &ctx())
        .await
        .unwrap();
    let t2 = d.get_ticket(&a, t2.id).await.unwrap();
    assert_eq!(
        (t2.assignee_id, t2.status),
        (Some(a.user_id()), TicketStatus::InProgress)
    );
    // With both online, new tickets go to the least loaded.
    d.set_agent_settings(&b, b.user_id(), Some(Availability::Online), None)
        .await
        .unwrap();
    let t3 = env.open_ticket(&c, "three").await;
    assert_eq!(t3.assignee_id, Some(b.user_id()));
    let t4 = env.open_ticket(&c, "four").await;
    assert_eq!(t4.assignee_id, Some(b.user_id()), "a is at capacity 1");
    // The periodic pass assigns what is left when room appears.
    let report = d.run_background_once().await.unwrap();
    assert_eq!(report.assigned, 0);
}
