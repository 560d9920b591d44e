//! An agent whose connection falls behind on the inbox topic (its buffer
//! overflows and events are dropped) still learns of every ticket: the
//! session re-reads the tickets changed since its last inbox event from the
//! store, and then carries on live.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use neurochat_core::memory::MemoryBus;
use neurochat_core::service::tickets::NewTicket;
use neurochat_protocol::v1::{ClientFrame, ServerFrame, TicketChange};
use support::*;
use uuid::Uuid;

const TICKETS: usize = 60;

/// Single-threaded on purpose: the tickets are opened concurrently from
/// the test task, and the agent's session task cannot run between the
/// publications of one group commit's tickets, so with a two-event inbox
/// buffer the session lags for certain.
#[tokio::test(flavor = "current_thread")]
async fn a_lagging_agent_still_sees_every_new_ticket_once_then_live_changes() {
    within(90, async {
        let srv = spawn_server_on_bus(Arc::new(MemoryBus::with_capacity(2, 32))).await;
        let agent = srv.agent("lagging").await;
        let other = srv.agent("other").await;
        let customer = srv.customer("busy").await;
        let mut ws = srv.connect_as(&agent.token).await;
        let ack = ws.request(ClientFrame::SubscribeInbox { req: 1 }).await;
        assert!(matches!(ack, ServerFrame::Ack { req: 1, .. }), "{ack:?}");

        let request = ctx();
        let opens = (0..TICKETS).map(|i| {
            srv.desk.create_ticket(
                &customer.principal,
                NewTicket {
                    subject: format!("burst {i}"),
                    body: format!("ticket {i} of a burst"),
                    client_msg_id: format!("burst-{i}"),
                    category_id: None,
                    priority: None,
                },
                &request,
            )
        });
        let opened: HashSet<Uuid> = futures_util::future::join_all(opens)
            .await
            .into_iter()
            .map(|r| r.unwrap().0.id.as_uuid())
            .collect();
        assert_eq!(opened.len(), TICKETS);

        // Every ticket arrives as `created`, each once.
        let mut created = HashSet::new();
        while created.len() < TICKETS {
            if let ServerFrame::TicketEvent { ticket, change } = ws.recv().await {
                assert_eq!(change, TicketChange::Created, "{ticket:?}");
                assert!(opened.contains(&ticket.id), "a ticket nobody opened");
                assert!(
                    created.insert(ticket.id),
                    "`created` twice for {}",
                    ticket.id
                );
            }
        }
        assert!(
            srv.gateway.stats().inbox_resyncs.load(Ordering::Relaxed) >= 1,
            "the inbox never lagged: the test did not exercise the resynchronisation"
        );
        // Nothing more about these tickets is pending (no duplicates later).
        for f in ws.quiet(std::time::Duration::from_millis(300)).await {
            if let ServerFrame::TicketEvent { ticket, .. } = &f {
                panic!("unexpected ticket event after the burst: {ticket:?}");
            }
        }

        // After the resynchronisation the inbox is live again.
        let first = *opened.iter().next().unwrap();
        srv.desk
            .claim_ticket(
                &other.principal,
                neurochat_core::domain::TicketId(first),
                &ctx(),
            )
            .await
            .unwrap();
        let f = ws
            .recv_until(|f| matches!(f, ServerFrame::TicketEvent { .. }))
            .await;
        let ServerFrame::TicketEvent { ticket, change } = f else {
            unreachable!()
        };
        assert_eq!((ticket.id, change), (first, TicketChange::Claimed));
        assert_eq!(ticket.assignee_id, Some(other.id.as_uuid()));
    })
    .await;
}
