//! The samples of `neurochat_protocol::v1::messages`.

use neurochat_protocol::v1::*;

use super::{MESSAGE, TICKET, at, message_view, receipt_view};
use crate::{Sample, Unknown, sample};

pub(super) fn message_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample(
            "messages.message_kind",
            Vocabulary,
            MessageKind::ALL.to_vec(),
        ),
        sample("messages.message_view", Ignored, message_view()),
        sample(
            "messages.message_view.system",
            Ignored,
            MessageView {
                id: MESSAGE,
                ticket_id: TICKET,
                seq: 3,
                author_id: None,
                kind: MessageKind::System,
                body: "Ticket assigned to Ana Agent.".to_owned(),
                client_msg_id: None,
                created_at: at(11),
            },
        ),
        sample(
            "messages.send_message_request",
            Rejected,
            SendMessageRequest {
                body: "Checking the logs now.".to_owned(),
                client_msg_id: "c-9d8e".to_owned(),
                internal: Some(true),
            },
        ),
        sample(
            "messages.receipt_request",
            Rejected,
            ReceiptRequest {
                delivered_seq: Some(7),
                read_seq: Some(6),
            },
        ),
        sample("messages.receipt_view", Ignored, receipt_view()),
        sample(
            "messages.history_query",
            Ignored,
            HistoryQuery {
                before_seq: Some(50),
                after_seq: Some(10),
                limit: Some(20),
            },
        ),
    ]
}
