//! Pipelined requests: a client that sends many `send` frames without
//! waiting gets them stored in its order and every reply in request order —
//! also with a malformed frame and a resend mixed in — and nothing twice;
//! pipelined `create_ticket`s are answered in order too.
#![allow(clippy::unwrap_used)]

mod support;

use neurochat_protocol::v1::{ClientFrame, ErrorCode, ServerFrame};
use support::*;

const SENDS: usize = 150;
const MALFORMED_AT: usize = 70;
const RESEND_AT: usize = 100;
const RESENT: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_sends_are_stored_and_answered_in_the_clients_order() {
    within(60, async {
        let srv = spawn_server(|c| {
            c.frames_per_second = 10_000;
            c.frame_burst = 10_000;
        })
        .await;
        let cust = srv.customer("pia").await;
        let t = srv.open_ticket(&cust, "pipelined").await.id.as_uuid();
        let mut c = srv.connect_as(&cust.token).await;

        // Everything is written before any reply is read.
        let mut expected = Vec::new(); // (req, what) in send order
        let mut keys = Vec::new();
        for i in 0..SENDS {
            let req = c.req();
            if i == MALFORMED_AT {
                c.send_raw(&format!(
                    r#"{{"type":"send","req":{req},"ticket_id":"not-a-uuid","client_msg_id":"x","body":"x"}}"#
                ))
                .await;
                expected.push((req, "error"));
                keys.push(None);
                continue;
            }
            let (key, what) = if i == RESEND_AT {
                (keys[RESENT].clone().unwrap(), "resend")
            } else {
                (cmid(), "new")
            };
            c.send(ClientFrame::Send {
                req,
                ticket_id: t,
                client_msg_id: key.clone(),
                body: format!("message {i}"),
                internal: false,
            })
            .await;
            expected.push((req, what));
            keys.push(Some(key));
        }

        // The replies, in request order: each new send one seq higher than
        // the last, the resend the seq of the original, the malformed frame
        // its error in its place.
        let mut seqs = Vec::new();
        let mut last_seq = 1;
        for (i, (req, what)) in expected.iter().enumerate() {
            let f = c.recv().await;
            match (f, *what) {
                (ServerFrame::Ack { req: r, seq: Some(s), .. }, "new") => {
                    assert_eq!(r, *req, "reply {i} answers request {req}");
                    assert_eq!(s, last_seq + 1, "seqs follow the client's order");
                    last_seq = s;
                    seqs.push(Some(s));
                }
                (ServerFrame::Ack { req: r, seq: Some(s), .. }, "resend") => {
                    assert_eq!(r, *req);
                    assert_eq!(Some(s), seqs[RESENT], "a resend gets the original");
                    seqs.push(None);
                }
                (ServerFrame::Error { req: r, error }, "error") => {
                    assert_eq!(r, Some(*req));
                    assert_eq!(error.code, ErrorCode::MalformedRequest);
                    seqs.push(None);
                }
                (other, what) => panic!("reply {i} ({what}, req {req}): {other:?}"),
            }
        }

        // Stored exactly once each, in the order sent.
        let stored = c.subscribe(t, 1).await;
        let bodies: Vec<String> = stored.iter().map(|m| m.body.clone()).collect();
        let want: Vec<String> = (0..SENDS)
            .filter(|i| *i != MALFORMED_AT && *i != RESEND_AT)
            .map(|i| format!("message {i}"))
            .collect();
        assert_eq!(bodies, want);
        assert_eq!(stored.last().map(|m| m.seq), Some(last_seq));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_ticket_opens_are_answered_in_order_and_a_resend_opens_nothing() {
    within(60, async {
        let srv = spawn_server(|c| {
            c.frames_per_second = 10_000;
            c.frame_burst = 10_000;
        })
        .await;
        let cust = srv.customer("olga").await;
        let mut c = srv.connect_as(&cust.token).await;
        let keys: Vec<String> = (0..20).map(|_| cmid()).collect();
        let mut reqs = Vec::new();
        // Twenty opens, then the third one again, written before any reply is read.
        for i in (0..20).chain([2]) {
            let req = c.req();
            c.send(ClientFrame::CreateTicket {
                req,
                subject: format!("question {i}"),
                body: format!("first message {i}"),
                client_msg_id: keys[i].clone(),
                category_id: None,
            })
            .await;
            reqs.push(req);
        }
        let mut tickets = Vec::new();
        for req in &reqs {
            // The customer's own channel also announces each new ticket.
            let reply = c
                .recv_until(|f| matches!(f, ServerFrame::Ack { .. } | ServerFrame::Error { .. }))
                .await;
            match reply {
                ServerFrame::Ack {
                    req: r,
                    ticket_id: Some(t),
                    seq: Some(1),
                    ..
                } => {
                    assert_eq!(r, *req, "replies in request order");
                    tickets.push(t);
                }
                other => panic!("expected the ack of {req}: {other:?}"),
            }
        }
        assert_eq!(
            tickets[20], tickets[2],
            "the resend answers with the first ticket"
        );
        let distinct: std::collections::HashSet<_> = tickets.iter().collect();
        assert_eq!(distinct.len(), 20, "twenty tickets, none twice");
    })
    .await;
}
