//! The samples of `neurochat_protocol::v1::tickets`.

use neurochat_protocol::v1::*;

use super::{AGENT, CATEGORY, CUSTOMER, at, category_view, new_ticket_view, ticket_view};
use crate::{Sample, Unknown, sample};

pub(super) fn ticket_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample(
            "tickets.ticket_status",
            Vocabulary,
            TicketStatus::ALL.to_vec(),
        ),
        sample("tickets.priority", Vocabulary, Priority::ALL.to_vec()),
        sample("tickets.ticket_sort", Vocabulary, TicketSort::ALL.to_vec()),
        sample("tickets.ticket_view", Ignored, ticket_view()),
        sample("tickets.ticket_view.new", Ignored, new_ticket_view()),
        sample(
            "tickets.create_ticket_request",
            Rejected,
            CreateTicketRequest {
                subject: "Cannot log in".to_owned(),
                body: "The login page says my password is wrong.".to_owned(),
                client_msg_id: "c-1a2b".to_owned(),
                category_id: Some(CATEGORY),
                priority: Some(Priority::High),
            },
        ),
        sample(
            "tickets.update_ticket_request",
            Rejected,
            UpdateTicketRequest {
                status: Some(TicketStatus::InProgress),
                priority: Some(Priority::Urgent),
                category_id: Some(Some(CATEGORY)),
            },
        ),
        sample(
            "tickets.update_ticket_request.clear_category",
            Rejected,
            UpdateTicketRequest {
                category_id: Some(None),
                ..UpdateTicketRequest::default()
            },
        ),
        sample(
            "tickets.assign_request",
            Rejected,
            AssignRequest {
                assignee_id: Some(AGENT),
            },
        ),
        sample(
            "tickets.assign_request.unassign",
            Rejected,
            AssignRequest { assignee_id: None },
        ),
        sample(
            "tickets.ticket_query",
            Ignored,
            TicketQuery {
                status: Some(vec![TicketStatus::New, TicketStatus::InProgress]),
                category_id: Some(CATEGORY),
                priority: Some(Priority::High),
                assignee: Some("unassigned".to_owned()),
                customer_id: Some(CUSTOMER),
                q: Some("password".to_owned()),
                created_from: Some(at(0)),
                created_to: Some(at(60)),
                updated_from: Some(at(0)),
                updated_to: Some(at(120)),
                sort: Some(TicketSort::Priority),
                cursor: Some("eyJrIjoiMjAyNiJ9".to_owned()),
                limit: Some(25),
            },
        ),
        sample("tickets.category_view", Ignored, category_view()),
        sample(
            "tickets.create_category_request",
            Rejected,
            CreateCategoryRequest {
                name: "Billing".to_owned(),
            },
        ),
        sample(
            "tickets.update_category_request",
            Rejected,
            UpdateCategoryRequest {
                name: Some("Invoices".to_owned()),
                archived: Some(true),
            },
        ),
    ]
}
