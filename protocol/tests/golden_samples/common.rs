//! The samples of `neurochat_protocol::v1::common`.

use neurochat_protocol::v1::*;

use super::agent_view;
use crate::{Sample, Unknown, sample};

pub(super) fn common_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample(
            "common.page",
            Ignored,
            Page::new(vec![agent_view()], Some("eyJrIjoiMjAyNiJ9".to_owned())),
        ),
        sample("common.page.last", Ignored, Page::<AgentView>::last(vec![])),
        sample("common.role", Vocabulary, Role::ALL.to_vec()),
        sample(
            "common.availability",
            Vocabulary,
            Availability::ALL.to_vec(),
        ),
    ]
}
