//! Point 9: malformed frames are answered, counted, and finally closed on —
//! without disturbing anybody else.
#![allow(clippy::unwrap_used)]

mod support;

use neurochat_protocol::v1::{ErrorCode, ServerFrame, close_codes};
use support::*;

const MAX_VIOLATIONS: u32 = 5;

/// Expects a `malformed_request` error answering `req`.
fn assert_malformed(f: &ServerFrame, req: Option<u64>) {
    match f {
        ServerFrame::Error { req: r, error } => {
            assert_eq!(error.code, ErrorCode::MalformedRequest, "{f:?}");
            assert_eq!(*r, req, "req echoed: {f:?}");
        }
        other => panic!("expected malformed_request, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_get_errors_then_close_4000_others_unaffected() {
    within(60, async {
        let srv = spawn_server(|c| c.max_violations = MAX_VIOLATIONS).await;
        let mut by = Bystander::new(&srv).await;
        let cust = srv.customer("carl").await;
        let t = srv.open_ticket(&cust, "mine").await.id.as_uuid();
        let mut c = srv.connect_as(&cust.token).await;

        // Bad JSON.
        c.send_raw("{not json").await;
        assert_malformed(&c.recv().await, None);
        // Unknown type (req echoed).
        c.send_raw(r#"{"type":"frobnicate","req":7}"#).await;
        assert_malformed(&c.recv().await, Some(7));
        // Wrong field types.
        c.send_raw(r#"{"type":"subscribe","req":8,"ticket_id":"not-a-uuid","last_seq":"x"}"#)
            .await;
        assert_malformed(&c.recv().await, Some(8));
        // A binary frame.
        c.send_binary(vec![0xde, 0xad, 0xbe, 0xef]).await;
        assert_malformed(&c.recv().await, None);

        // Meanwhile everybody else is served, and so is this connection.
        by.assert_served(&srv).await;
        assert!(c.ping().await.is_empty());
        let seq = srv.post(&cust, t, "still works").await;
        c.subscribe(t, seq - 1).await;

        // An unknown field (client frames deny them); the fifth violation.
        c.send_raw(r#"{"type":"ping","nonce":1,"extra":true}"#)
            .await;
        assert_malformed(&c.recv().await, None);
        // One more than max_violations: answered, then closed.
        c.send_raw(&format!(
            r#"{{"type":"send","req":9,"ticket_id":"{t}","client_msg_id":5,"body":true}}"#
        ))
        .await;
        let (frames, code) = c.expect_close_with_frames().await;
        assert_eq!(code, close_codes::PROTOCOL_VIOLATION);
        assert_eq!(frames.len(), 1, "{frames:?}");
        assert_malformed(&frames[0], Some(9));

        by.assert_served(&srv).await;
        srv.wait_connections(1).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_garbage_is_closed_at_max_violations_plus_one() {
    within(60, async {
        let srv = spawn_server(|c| c.max_violations = MAX_VIOLATIONS).await;
        let mut by = Bystander::new(&srv).await;
        let cust = srv.customer("carl").await;
        let mut c = srv.connect_as(&cust.token).await;
        for i in 0..50u64 {
            let garbage = match i % 4 {
                0 => "[]".to_owned(),
                1 => format!(r#"{{"type":"nope","req":{i}}}"#),
                2 => "\u{0}".to_owned(),
                _ => format!(r#"{{"req":{i}}}"#),
            };
            if !c.try_send_raw(&garbage).await {
                break;
            }
        }
        let (frames, code) = c.expect_close_with_frames().await;
        assert_eq!(code, close_codes::PROTOCOL_VIOLATION);
        assert_eq!(frames.len(), MAX_VIOLATIONS as usize + 1, "{frames:?}");
        for (i, f) in frames.iter().enumerate() {
            let i = i as u64;
            let req = matches!(i % 4, 1 | 3).then_some(i);
            assert_malformed(f, req);
        }
        by.assert_served(&srv).await;
    })
    .await;
}
