//! The samples of `neurochat_protocol::v1::users`.

use neurochat_protocol::v1::*;

use super::{AGENT, agent_view, customer_view, visitor_view};
use crate::{Sample, Unknown, sample};

pub(super) fn user_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample("users.user_view", Ignored, customer_view()),
        sample("users.user_view.visitor", Ignored, visitor_view()),
        sample("users.agent_view", Ignored, agent_view()),
        sample(
            "users.agent_load_view",
            Ignored,
            AgentLoadView {
                id: AGENT,
                display_name: "Ana Agent".to_owned(),
                role: Role::Agent,
                availability: Availability::Online,
                capacity: 5,
                open_tickets: 3,
            },
        ),
        sample(
            "users.update_profile_request",
            Rejected,
            UpdateProfileRequest {
                display_name: "Carla C.".to_owned(),
            },
        ),
        sample(
            "users.change_email_request",
            Rejected,
            ChangeEmailRequest {
                new_email: "carla@new.example.com".to_owned(),
                password: "correct horse battery staple".to_owned(),
            },
        ),
        sample(
            "users.set_role_request",
            Rejected,
            SetRoleRequest { role: Role::Agent },
        ),
        sample(
            "users.set_disabled_request",
            Rejected,
            SetDisabledRequest { disabled: true },
        ),
        sample(
            "users.agent_settings_request",
            Rejected,
            AgentSettingsRequest {
                availability: Some(Availability::Away),
                capacity: Some(8),
            },
        ),
        sample(
            "users.user_query",
            Ignored,
            UserQuery {
                search: Some("carla".to_owned()),
                role: Some(Role::Customer),
                disabled: Some(false),
                cursor: Some("eyJrIjoiMjAyNiJ9".to_owned()),
                limit: Some(50),
            },
        ),
        sample("users.user_query.empty", Ignored, UserQuery::default()),
    ]
}
