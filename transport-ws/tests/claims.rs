//! Point 6: concurrent claims over WebSocket.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use neurochat_core::domain::TicketId;
use neurochat_protocol::v1::{ClientFrame, ErrorCode, ServerFrame};
use support::*;
use tokio::sync::Barrier;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_five_concurrent_claims_exactly_one_wins() {
    within(60, async {
        let srv = spawn_server(|_| {}).await;
        let cust = srv.customer("carl").await;
        let mut agents = Vec::new();
        for i in 0..5 {
            let a = srv.agent(&format!("agent{i}")).await;
            let ws = srv.connect_as(&a.token).await;
            agents.push((a, ws));
        }

        // The customer opens the ticket with a create_ticket frame.
        let mut customer = srv.connect_as(&cust.token).await;
        let reply = customer
            .request(ClientFrame::CreateTicket {
                req: 1,
                subject: "Who takes this?".to_owned(),
                body: "Anyone there?".to_owned(),
                client_msg_id: cmid(),
                category_id: None,
            })
            .await;
        let ServerFrame::Ack {
            req: 1,
            ticket_id: Some(t),
            message_id: Some(_),
            seq: Some(1),
        } = reply
        else {
            panic!("expected the create_ticket ack, got {reply:?}");
        };

        // All five claim at once.
        let barrier = Arc::new(Barrier::new(agents.len()));
        let mut tasks = Vec::new();
        for (i, (a, mut ws)) in agents.into_iter().enumerate() {
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                let req = 100 + i as u64;
                barrier.wait().await;
                let reply = ws.request(ClientFrame::Claim { req, ticket_id: t }).await;
                (a, req, reply)
            }));
        }
        let mut winners = Vec::new();
        let mut losers = 0;
        for task in tasks {
            let (a, req, reply) = within(15, task).await.unwrap();
            match reply {
                ServerFrame::Ack {
                    req: r,
                    ticket_id: Some(tid),
                    ..
                } => {
                    assert_eq!((r, tid), (req, t));
                    winners.push(a);
                }
                ServerFrame::Error {
                    req: Some(r),
                    error,
                } => {
                    assert_eq!(r, req);
                    assert_eq!(error.code, ErrorCode::AlreadyClaimed, "{error:?}");
                    losers += 1;
                }
                other => panic!("unexpected claim reply {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one ack");
        assert_eq!(losers, 4, "four already_claimed errors");

        // The store agrees, and the customer is told who took it.
        let ticket = srv
            .desk
            .get_ticket(&cust.principal, TicketId(t))
            .await
            .unwrap();
        assert_eq!(ticket.assignee_id, Some(winners[0].id));
        let event = customer
            .recv_until(|f| {
                matches!(f, ServerFrame::TicketEvent { change, .. }
                    if *change == neurochat_protocol::v1::TicketChange::Claimed)
            })
            .await;
        let ServerFrame::TicketEvent { ticket: view, .. } = event else {
            unreachable!()
        };
        assert_eq!(view.id, t);
        assert_eq!(view.assignee_id, Some(winners[0].id.as_uuid()));
    })
    .await;
}
